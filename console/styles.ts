/**
 * @module The console's one stylesheet, served at /console/assets/console.css. Mobile first:
 * everything fits 360 px without sideways scrolling (tables become cards below 720 px), focus is
 * always visible, and controls keep their size whatever their state, so nothing jumps.
 */
export const CONSOLE_CSS = `
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none !important}
html{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f6f7f9}
body{margin:0}
a{color:#0b57d0}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.skip{position:absolute;left:-9999px}
.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:10}
header.top{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;justify-content:space-between;padding:10px 16px;background:#1b1f24;color:#fff}
header.top a{color:#fff}
header.top nav{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center}
header.top form{margin:0}
header.top .who{font-size:.875rem;opacity:.85}
.brand{font-weight:700;text-decoration:none}
main{max-width:1180px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
button,.button{font:inherit;display:inline-flex;align-items:center;justify-content:center;min-height:40px;padding:6px 14px;border-radius:6px;border:1px solid #8a939e;background:#fff;color:#1b1f24;cursor:pointer;text-decoration:none}
button.primary,.button.primary{background:#0b57d0;border-color:#0b57d0;color:#fff}
button.danger{border-color:#b3261e;color:#b3261e}
button.link{border:0;background:none;color:inherit;text-decoration:underline;min-height:0;padding:0}
label{display:block;font-weight:600;margin:0 0 4px}
.hint{font-weight:400;font-size:.875rem;color:#57606a;margin:2px 0 0}
input,select,textarea{font:inherit;width:100%;min-height:40px;padding:6px 8px;border:1px solid #8a939e;border-radius:6px;background:#fff;color:inherit}
input[type=checkbox]{width:auto;min-height:0}
textarea{min-height:80px}
[aria-invalid=true]{border-color:#b3261e;border-width:2px}
.error{color:#b3261e;font-size:.9rem;margin:4px 0 0}
.notice{padding:10px 14px;border-radius:6px;margin:0 0 16px;border:1px solid}
.notice.bad{background:#fdecea;border-color:#b3261e}
.notice.good{background:#e8f5e9;border-color:#2e7d32}
.notice ul{margin:.25rem 0 0;padding-left:1.25rem}
.field{margin:0 0 14px;min-width:0}
.grid{display:grid;gap:0 16px;grid-template-columns:1fr}
@media (min-width:720px){.grid.two{grid-template-columns:1fr 1fr}.grid.three{grid-template-columns:1fr 1fr 1fr}}
fieldset{border:1px solid #c9ced6;border-radius:8px;padding:12px;margin:0 0 16px;min-width:0;background:#fff}
legend{font-weight:700;padding:0 6px}
fieldset.cond{background:#fbfcfd}
fieldset.group{background:#f1f4f8}
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}
.row>.field{flex:1 1 140px}
.actions{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:8px 0}
.days{display:flex;flex-wrap:wrap;gap:4px 12px}
.days label{display:flex;gap:4px;align-items:center;font-weight:400}
.js .js-hide{display:none}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;font-weight:600;border:1px solid}
.badge.active{background:#e8f5e9;color:#1b5e20;border-color:#2e7d32}
.badge.paused{background:#fff8e1;color:#6d4c00;border-color:#b28704}
.badge.draft{background:#eef1f5;color:#3d4650;border-color:#8a939e}
.badge.archived{background:#f3f3f3;color:#57606a;border-color:#c9ced6}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:8px;border-bottom:1px solid #e1e4e8;vertical-align:top;overflow-wrap:anywhere}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
@media (max-width:719px){
  table.cards thead{position:absolute;left:-9999px}
  table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
  table.cards tr{border:1px solid #c9ced6;border-radius:8px;margin:0 0 12px;padding:4px 8px}
  table.cards td{border:0;padding:4px 0;display:flex;justify-content:space-between;gap:12px;text-align:right}
  table.cards td::before{content:attr(data-label);font-weight:600;text-align:left}
}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end;margin:0 0 16px}
.filters .field{margin:0;flex:0 1 320px}
.toast-wrap{position:sticky;top:8px}
.toast{max-width:340px;border-radius:10px;background:#fff;box-shadow:0 4px 18px rgba(0,0,0,.18);padding:14px 16px;border:1px solid #e1e4e8}
.toast img{max-width:100%;border-radius:6px}
.toast .t-title{font-weight:700;margin:0 0 4px;overflow-wrap:anywhere}
.toast .t-body{margin:0 0 8px;overflow-wrap:anywhere}
.toast .t-code{display:inline-block;font-family:ui-monospace,monospace;background:#f1f4f8;padding:2px 6px;border-radius:4px;margin:0 0 8px}
.toast .t-cta{display:inline-block;background:#0b57d0;color:#fff;border-radius:6px;padding:6px 12px}
.editor{display:grid;gap:16px;grid-template-columns:minmax(0,1fr)}
@media (min-width:960px){.editor{grid-template-columns:minmax(0,1fr) 360px}}
.diff del{background:#fdecea;text-decoration:line-through}
.diff ins{background:#e8f5e9;text-decoration:none}
.why{margin:0;padding-left:0;list-style:none;font-family:ui-monospace,monospace;font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}
.chart{width:100%;height:auto;background:#fff;border:1px solid #e1e4e8;border-radius:8px}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.9rem;padding:0;list-style:none}
.legend .sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:middle}
.sw.delivered{background:#0b57d0}.sw.shown{background:#7b1fa2}.sw.clicked{background:#ef6c00}.sw.converted{background:#2e7d32}
.muted{color:#57606a}
.spark{width:100px;height:24px;display:block}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px;margin:0 0 16px}
dl.figures div{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:8px 12px}
dl.figures dt{font-size:.85rem;color:#57606a}
dl.figures dd{margin:0;font-size:1.25rem;font-weight:700;font-variant-numeric:tabular-nums}
.signin{max-width:380px;margin:40px auto}
`
