// to_http.mjs - Node 20's http module with a keep-alive Agent (libuv,
// epoll) under the shim, for tests/80-timeouts-runtimes.t.
//
//   node to_http.mjs connect|request|keepalive PORT N [CTL]
//
// Every default timeout is kept: the agent and the requests set none (Node's
// http has no connect or response timeout of its own).  Modes as
// tests/clients/to_httpclient.java; in keepalive call 1 goes on the agent's
// idle connection.  Prints "I MS OUTCOME DETAIL": sNNN, or the error's code
// (ETIMEDOUT, ECONNREFUSED, ECONNRESET...) and message.
import http from 'node:http';
import { writeFileSync, renameSync } from 'node:fs';
const [mode, port, nArg, ctl] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get() {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(port), path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve('s' + res.statusCode));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
async function call(i) {
  const t0 = performance.now();
  let out;
  try {
    out = await get();
  } catch (e) {
    out = `${e.code || e.name} ${e.message}`;
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
