// fetch.mjs - node's global fetch (undici, keep-alive) under the shim.
//
//   node fetch.mjs URL [N] [PARALLEL]
//
// Makes N requests to URL (default 1), PARALLEL at a time (default 1: one
// after another, so undici reuses one keep-alive connection), reading each
// body.  Prints one line: sNNN=K per status received, and errors by code
// (ECONNRESET=1, ...).  Exit status 0.
const [url, nArg, parArg] = process.argv.slice(2);
const n = Number(nArg || 1);
const par = Number(parArg || 1);
const out = {};
const bump = (k) => { out[k] = (out[k] || 0) + 1; };
let next = 0;
async function worker() {
  while (next < n) {
    next++;
    try {
      const r = await fetch(url);
      await r.text();
      bump('s' + r.status);
    } catch (e) {
      bump((e.cause && e.cause.code) || e.code || e.name || 'Error');
    }
  }
}
await Promise.all(Array.from({ length: par }, worker));
const words = Object.entries(out).map(([k, v]) => `${k}=${v}`);
console.log(words.length ? words.join(' ') : 'none=0');
