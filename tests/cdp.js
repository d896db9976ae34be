// cdp.js - drive headless Chromium for the dashboard test (tests/54-dashboard.t).
//
//   node tests/cdp.js CHROMIUM PROFILE_DIR
//
// Starts CHROMIUM headless with its DevTools protocol on a pipe (fds 3 and
// 4: --remote-debugging-pipe, no port, no WebSocket), opens one page, then
// reads commands from stdin, one a line, and answers each with one line
// of JSON on stdout ({"ok": true, "value": ...} or {"ok": false, "error": ...}):
//
//   goto URL                load URL, wait for its load event (10 s at most)
//   eval JS                 the value of the expression JS (awaited)
//   wait MS JS              eval JS every 100 ms until it is truthy, at most MS
//   click CSS               a real mouse click (press, release) at the middle
//                           of the first element CSS selects
//   type CSS TEXT           focus that element and insert TEXT (\n: newline)
//   shot PATH               a PNG screenshot of the page into PATH
//   errors                  the exceptions and console errors seen so far (not
//                           the network's: a refused request is expected)
//   quit                    close the browser
//
// Every wait is bounded; the browser is killed when stdin closes.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const readline = require('readline');

const [chromium, profile] = process.argv.slice(2);
// The first start on a fresh machine reads the whole browser from a cold
// disk, and has been seen to take more than 15 s; a start that does not
// answer in START_MS is killed and tried again with a fresh profile, at
// most START_TRIES times (all of it inside the test's 200 s wait).
const START_MS = 45000, START_TRIES = 3;
let browser = null, toBrowser = null, stderr = '', generation = 0;
function launch(dir) {
  const b = spawn(chromium, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe',
    '--user-data-dir=' + dir, '--no-first-run', '--no-default-browser-check',
    '--disable-extensions', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-default-apps', '--no-proxy-server', '--window-size=1400,900',
    '--hide-scrollbars', '--mute-audio', '--password-store=basic', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const gen = ++generation;
  browser = b; toBrowser = b.stdio[3]; stderr = ''; buf = '';
  b.stderr.on('data', (d) => { if (gen === generation) stderr = (stderr + d).slice(-4000); });
  b.on('exit', (code, sig) => {
    if (gen !== generation) return;
    for (const p of pending.values()) p.reject(new Error('chromium exited ' + (sig || code) + ': ' + stderr));
    pending.clear();
  });
  toBrowser.on('error', () => { /* the exit handler says why */ });
  b.stdio[4].on('data', (d) => { if (gen === generation) onData(d); });
}
function killBrowser() {
  const b = browser;
  return new Promise((r) => {
    if (b.exitCode !== null || b.signalCode) return r();
    b.on('exit', r);
    b.kill('SIGKILL');
    setTimeout(r, 5000);
  });
}

let nextId = 1, buf = '', session = null;
const pending = new Map(), errors = [], listeners = [];
function onData(d) {
  buf += d.toString('utf8');
  let z;
  while ((z = buf.indexOf('\0')) >= 0) {
    const msg = JSON.parse(buf.slice(0, z));
    buf = buf.slice(z + 1);
    if (msg.id && pending.has(msg.id)) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    } else if (msg.method) {
      onEvent(msg);
    }
  }
}

function onEvent(msg) {
  const p = msg.params || {};
  if (msg.method === 'Runtime.exceptionThrown')
    errors.push('exception: ' + (p.exceptionDetails.exception ? p.exceptionDetails.exception.description
      : p.exceptionDetails.text));
  else if (msg.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'warning'))
    errors.push('console.' + p.type + ': ' + p.args.map((a) => a.value || a.description).join(' '));
  else if (msg.method === 'Log.entryAdded' && p.entry.level === 'error' && p.entry.source !== 'network')
    errors.push('log: ' + p.entry.text + (p.entry.url ? ' (' + p.entry.url + ')' : ''));
  for (const l of listeners.slice()) l(msg);
}

function send(method, params, withSession = true, timeoutMs = 15000) {
  const id = nextId++;
  const msg = { id, method, params: params || {} };
  if (withSession && session) msg.sessionId = session;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { pending.delete(id); reject(new Error(method + ': no answer in ' + timeoutMs + ' ms')); }, timeoutMs);
    pending.set(id, { resolve: (r) => { clearTimeout(t); resolve(r); },
                      reject: (e) => { clearTimeout(t); reject(e); } });
    toBrowser.write(JSON.stringify(msg) + '\0');
  });
}

function event(name, timeoutMs) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { done(); reject(new Error('no ' + name + ' in ' + timeoutMs + ' ms')); }, timeoutMs);
    const l = (m) => { if (m.method === name && m.sessionId === session) { done(); resolve(m.params); } };
    const done = () => { clearTimeout(t); listeners.splice(listeners.indexOf(l), 1); };
    listeners.push(l);
  });
}

async function evaluate(js) {
  const r = await send('Runtime.evaluate', { expression: js, awaitPromise: true, returnByValue: true });
  if (r.exceptionDetails)
    throw new Error('eval: ' + (r.exceptionDetails.exception ? r.exceptionDetails.exception.description : r.exceptionDetails.text));
  return r.result.value;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function start() {
  const t0 = Date.now();
  for (let i = 1; ; i++) {
    launch(i === 1 ? profile : profile + '.' + i);
    try {
      await send('Target.getTargets', {}, false, START_MS);
      return { tries: i, ms: Date.now() - t0 };
    } catch (e) {
      if (i >= START_TRIES) throw e;
      process.stderr.write('cdp.js: start ' + i + ' failed (' + e.message + '), trying again\n');
      await killBrowser();
    }
  }
}

async function init() {
  const started = await start();
  const { targetInfos } = await send('Target.getTargets', {}, false);
  let page = targetInfos.find((t) => t.type === 'page');
  const targetId = page ? page.targetId : (await send('Target.createTarget', { url: 'about:blank' }, false)).targetId;
  session = (await send('Target.attachToTarget', { targetId, flatten: true }, false)).sessionId;
  await send('Page.enable');
  await send('Runtime.enable');
  await send('Log.enable');
  await send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 900, deviceScaleFactor: 1, mobile: false });
  return started;
}

const commands = {
  async goto(url) {
    const loaded = event('Page.loadEventFired', 10000);
    const r = await send('Page.navigate', { url });
    if (r.errorText) throw new Error('navigate: ' + r.errorText);
    await loaded;
    return url;
  },
  eval: (js) => evaluate(js),
  async wait(rest) {
    const sp = rest.indexOf(' ');
    const ms = parseInt(rest.slice(0, sp), 10), js = rest.slice(sp + 1);
    const t0 = Date.now();
    let v;
    for (;;) {
      v = await evaluate(js);
      if (v) return v;
      if (Date.now() - t0 > ms) throw new Error('wait: still false after ' + ms + ' ms: ' + js);
      await sleep(100);
    }
  },
  async click(sel) {
    const box = await evaluate(`(() => { const e = document.querySelector(${JSON.stringify(sel)});
      if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width}; })()`);
    if (!box || !box.w) throw new Error('click: nothing visible for ' + sel);
    for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased'])
      await send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    return sel;
  },
  async type(rest) {
    const sp = rest.indexOf(' ');
    const sel = rest.slice(0, sp), text = rest.slice(sp + 1).replace(/\\n/g, '\n');
    const ok = await evaluate(`(() => { const e = document.querySelector(${JSON.stringify(sel)});
      if (!e) return false; e.focus(); e.value = ''; return true; })()`);
    if (!ok) throw new Error('type: no element ' + sel);
    await send('Input.insertText', { text });
    return sel;
  },
  async shot(path) {
    const r = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    fs.writeFileSync(path, Buffer.from(r.data, 'base64'));
    return path;
  },
  errors: async () => errors.slice(),
  async quit() {
    const gone = new Promise((r) => { if (browser.exitCode !== null || browser.signalCode) r(); else browser.on('exit', r); });
    try { await send('Browser.close', {}, false, 3000); } catch (e) { /* it is going anyway */ }
    await Promise.race([gone, sleep(5000)]);  // its profile is written when it has gone
    return 'bye';
  },
};

(async () => {
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
  try {
    const started = await init();
    process.stderr.write('cdp.js: browser ready after ' + started.ms + ' ms, start ' + started.tries + '\n');
  } catch (e) {
    out({ ok: false, error: 'start: ' + e.message + ' ' + stderr });
    browser.kill('SIGKILL');
    process.exit(1);
  }
  out({ ok: true, value: 'ready' });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const sp = line.indexOf(' ');
    const cmd = sp < 0 ? line : line.slice(0, sp), arg = sp < 0 ? '' : line.slice(sp + 1);
    if (!commands[cmd]) { out({ ok: false, error: 'unknown command ' + cmd }); continue; }
    try {
      out({ ok: true, value: await commands[cmd](arg) });
    } catch (e) {
      out({ ok: false, error: e.message });
    }
    if (cmd === 'quit') break;
  }
  browser.kill('SIGKILL');
  process.exit(0);
})();
