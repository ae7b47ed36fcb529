# One image for every role; ROLE picks which one a container runs (api, gateway, workers or
# all). TypeScript runs through tsx, so there is no build stage.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY . .
ARG ROLE=api
ENV ROLE=${ROLE}
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["sh", "-c", "exec node --import tsx bin/nudge.ts start --role \"$ROLE\""]
