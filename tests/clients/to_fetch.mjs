// to_fetch.mjs - Node 20's global fetch (undici: libuv, epoll) under the
// shim, for tests/80-timeouts-runtimes.t.
//
//   node to_fetch.mjs connect|request|keepalive PORT N [CTL]
//
// Every default timeout is kept (undici's: connect 10 s, headers 300 s,
// body 300 s).  Modes as tests/clients/to_httpclient.java; undici keeps
// connections alive by default, so in keepalive call 1 goes on the
// connection call 0 used.  Prints "I MS OUTCOME DETAIL" per call: sNNN, or
// the error's name/its cause's code (e.g. TypeError/ETIMEDOUT) and message.
import { writeFileSync, renameSync } from 'node:fs';
const [mode, port, nArg, ctl] = process.argv.slice(2);
const url = `http://127.0.0.1:${port}/`;
async function call(i) {
  const t0 = performance.now();
  let out;
  try {
    const r = await fetch(url);
    await r.text();
    out = 's' + r.status;
  } catch (e) {
    const c = e.cause || {};
    out = `${e.name}/${c.code || c.name || '-'} ${c.message || e.message}`;
  }
  console.log(`${i} ${Math.round(performance.now() - t0)} ${out}`);
}
if (mode === 'keepalive') {
  await call(0);
  writeFileSync(ctl + '.tmp', 'hang\n');
  renameSync(ctl + '.tmp', ctl);
  await new Promise((r) => setTimeout(r, 250));
}
for (let i = 1; i <= Number(nArg); i++) await call(i);
process.exit(0);
