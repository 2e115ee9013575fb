#!/usr/bin/env node
// Check a qmgrade trace record without qmgrade (docs/trace-digest.md explains every step).
//
//   node verify-trace.js RECORD [--pubkey PUBLIC.pem]   recompute the digest and model.sha256,
//                                                       and check the Ed25519 signature with --pubkey
//   node verify-trace.js --canonical FILE.json          print the RFC 8785 form of any JSON document
//
// Exit 0 when everything checked matches, 1 when something does not, 2 on a usage error.
// Needs Node.js 12 or later and nothing else.
'use strict';
const fs = require('fs');
const crypto = require('crypto');

// RFC 8785 (JSON Canonicalization Scheme): no whitespace; object members sorted by the UTF-16
// code units of their names (what Array.prototype.sort does to strings); strings and numbers
// exactly as ECMAScript's JSON.stringify writes them (RFC 8785 sections 3.2.2 and 3.2.3).
function canonical(value) {
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    return '{' + Object.keys(value).sort()
      .map((name) => JSON.stringify(name) + ':' + canonical(value[name])).join(',') + '}';
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('a number that is not finite');
  return JSON.stringify(value);
}

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// A record is one JSON document, or JSON Lines: a header, one line per firing, then
// {"digest"[, "signature"]}.
function readRecord(text) {
  try {
    return JSON.parse(text);
  } catch (notOneDocument) {
    const lines = text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
    const record = Object.assign({}, lines[0]);
    record.firings = lines.slice(1, -1);
    return Object.assign(record, lines[lines.length - 1]);
  }
}

function main(argv) {
  if (argv[0] === '--canonical' && argv.length === 2) {
    process.stdout.write(canonical(JSON.parse(fs.readFileSync(argv[1], 'utf8'))));
    return 0;
  }
  const keyAt = argv.indexOf('--pubkey');
  const pubkey = keyAt >= 0 ? argv[keyAt + 1] : null;
  const rest = argv.filter((_, i) => keyAt < 0 || (i !== keyAt && i !== keyAt + 1));
  if (rest.length !== 1 || (keyAt >= 0 && !pubkey)) {
    process.stderr.write('usage: node verify-trace.js RECORD [--pubkey PUBLIC.pem] | --canonical FILE.json\n');
    return 2;
  }
  const record = readRecord(fs.readFileSync(rest[0], 'utf8'));
  let ok = true;
  // formats 2 and 3 share the digest (3 changed the rules that fire, not how a record is hashed)
  if (record.format !== 'qmgrade-trace/3' && record.format !== 'qmgrade-trace/2') {
    console.log(`format ${JSON.stringify(record.format)}: this script checks qmgrade-trace/2 and /3 records`);
    return 1;
  }

  // 1. the digest: SHA-256 of the canonical JSON of everything but "digest" and "signature"
  const content = Object.assign({}, record);
  delete content.digest;
  delete content.signature;
  const signed = Buffer.from(canonical(content), 'utf8');
  const digest = sha256(signed);
  if (digest === record.digest) {
    console.log(`digest OK ${digest}`);
  } else {
    console.log(`digest MISMATCH: recorded ${record.digest}, computed ${digest}`);
    ok = false;
  }

  // 2. the model fingerprint: SHA-256 over "PATH\0SHA256\n" for each model file, in the listed order
  const files = (record.model && record.model.files) || [];
  const model = sha256(files.map((f) => `${f.path}\u0000${f.sha256}\n`).join(''));
  if (model === record.model.sha256) {
    console.log(`model.sha256 OK ${model} (${files.length} files)`);
  } else {
    console.log(`model.sha256 MISMATCH: recorded ${record.model.sha256}, computed ${model}`);
    ok = false;
  }

  // 3. the signature: Ed25519 over the same bytes as the digest, by the holder of PUBLIC.pem
  if (pubkey) {
    const key = crypto.createPublicKey(fs.readFileSync(pubkey));
    const raw = key.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64');
    const signature = record.signature;
    if (!signature) {
      console.log('signature MISSING: the record is not signed');
      ok = false;
    } else if (signature.public_key !== raw) {
      console.log(`signature by ANOTHER KEY: the record names ${signature.public_key}, ${pubkey} is ${raw}`);
      ok = false;
    } else if (crypto.verify(null, signed, key, Buffer.from(signature.value, 'base64'))) {
      console.log(`signature OK (Ed25519, ${pubkey})`);
    } else {
      console.log('signature INVALID: the record was changed after it was signed');
      ok = false;
    }
  }
  return ok ? 0 : 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 1;
}
