// Drives a running `qoltanba serve` with the real ncalayer-js-client (npm 1.5.6), exactly as a
// portal page would, and prints every call's outcome as one JSON object on stdout. The Rust test
// (crates/cli/tests/e2e) checks the signatures with openssl and xmlsec1.
//
//   node run.mjs --url ws://127.0.0.1:PORT --mode approve|cancel|token [--storage NAME]
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';

const require = createRequire(import.meta.url);
const { NCALayerClient } = require('ncalayer-js-client');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const url = arg('url');
const mode = arg('mode', 'approve');

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
const CONTENT = 'Қолтаңба тесті / тест подписи / signature test';
const XML = '<?xml version="1.0" encoding="UTF-8"?><request><iin>123456789011</iin><text>Өтініш</text></request>';

const results = {};
async function call(name, fn) {
  try {
    results[name] = { ok: await fn() };
  } catch (e) {
    results[name] = { error: String(e && e.message), canceledByUser: Boolean(e && e.canceledByUser) };
  }
}

const client = new NCALayerClient(url, false);
client.kmdHttpApiUrl = 'http://127.0.0.1:9/'; // keep the KAZTOKEN probe hermetic
const storages = [NCALayerClient.basicsStoragePKCS12];

// A failed TLS handshake can leave connect() unsettled in Node: bound it.
const withTimeout = (p, ms) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('connect timeout')), ms))]);
await call('connect', () => withTimeout(client.connect(), 10000));
if (results.connect.error) {
  // Not connected: nothing else to try.
} else if (mode === 'approve') {
  await call('getActiveTokens', () => client.getActiveTokens());
  await call('getKeyInfo', () => client.getKeyInfo('PKCS12'));
  await call('cadesAttached', () => client.createCAdESFromBase64('PKCS12', b64(CONTENT), 'SIGNATURE', true));
  await call('cadesDetached', () => client.createCAdESFromBase64('PKCS12', b64(CONTENT), 'SIGNATURE', false));
  const hash = createHash('sha256').update(CONTENT, 'utf8').digest('base64');
  await call('cadesHash', () => client.createCAdESFromBase64Hash('PKCS12', hash, 'SIGNATURE'));
  await call('cmsSignatureTsp', () => client.createCMSSignatureFromBase64('PKCS12', b64(CONTENT), 'SIGNATURE', true));
  await call('signXml', () => client.signXml('PKCS12', XML, 'SIGNATURE', '', ''));
  await call('signXmls', () => client.signXmls('PKCS12', [XML, XML.replace('Өтініш', 'Заявление')], 'SIGNATURE', '', ''));
  await call('basicsCmsSingleDetached', () => client.basicsSignCMS(storages, b64(CONTENT),
    NCALayerClient.basicsCMSParamsDetachedNoTSP, NCALayerClient.basicsSignerSignAny));
  await call('basicsCmsManyAttached', () => client.basicsSignCMS(storages, [b64(CONTENT), b64('second')],
    NCALayerClient.basicsCMSParamsAttached, NCALayerClient.basicsSignerSignAny, 'kk'));
  await call('basicsCmsHash', () => client.basicsSignCMS(storages, hash,
    NCALayerClient.basicsCMSParamsDetachedHash, NCALayerClient.basicsSignerTestAny));
  await call('basicsXml', () => client.basicsSignXML(storages, XML, NCALayerClient.basicsXMLParams,
    NCALayerClient.basicsSignerSignAny));
  await call('basicsWrongIin', () => client.basicsSignCMS(storages, b64(CONTENT),
    NCALayerClient.basicsCMSParamsDetachedNoTSP, { extKeyUsageOids: ['1.3.6.1.5.5.7.3.4'], iin: '000000000000' }));
  await call('basicsAuthKeyWanted', () => client.basicsSignCMS(storages, b64(CONTENT),
    NCALayerClient.basicsCMSParamsDetachedNoTSP, NCALayerClient.basicsSignerAuthAny));
  await call('badBase64', () => client.createCAdESFromBase64('PKCS12', '@@not base64@@', 'SIGNATURE', false));
  await call('badXml', () => client.signXml('PKCS12', '<a><b></a>', 'SIGNATURE', '', ''));
  await call('xxe', () => client.signXml('PKCS12', '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', 'SIGNATURE', '', ''));
  await call('changeLocale', () => client.changeLocale('ru'));
} else if (mode === 'token') {
  const storage = arg('storage');
  await call('getActiveTokens', () => client.getActiveTokens());
  await call('basicsToken', () => client.basicsSignCMS([storage], b64(CONTENT),
    NCALayerClient.basicsCMSParamsAttached, NCALayerClient.basicsSignerSignAny));
  await call('cadesToken', () => client.createCAdESFromBase64(storage, b64(CONTENT), 'SIGNATURE', true));
} else {
  await call('basicsCancel', () => client.basicsSignCMS(storages, b64(CONTENT),
    NCALayerClient.basicsCMSParamsDetachedNoTSP, NCALayerClient.basicsSignerSignAny));
  await call('commonUtilsCancel', () => client.createCAdESFromBase64('PKCS12', b64(CONTENT), 'SIGNATURE', false));
  await call('signXmlCancel', () => client.signXml('PKCS12', XML, 'SIGNATURE', '', ''));
}
process.stdout.write(JSON.stringify(results) + '\n');
process.exit(0);
