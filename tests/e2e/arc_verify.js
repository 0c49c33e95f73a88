#!/usr/bin/env node
// arc_verify.js - the ARC verifier of mailauth (postalsys, npm; an implementation independent of
// mxspool's, dkimpy's and Mail::DKIM's; it verifies rsa-sha256 and ed25519-sha256 ARC sets) on
// one message, key records from the test's DNS server on 127.0.0.1:PORT (never the Internet).
//   arc_verify.js PORT FILE      prints "<cv> <comment>"; exit 0 if the chain passes
// mailauth comes from tests/node (npm ci --prefix tests/node, scripts/deps.sh does it).
// Bare LF line ends (smtp-sink dumps) are turned back into CRLF first.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Resolver } = require('node:dns').promises;
const lib = path.join(__dirname, '..', 'node', 'node_modules', 'mailauth', 'lib');
const { dkimVerify } = require(path.join(lib, 'dkim', 'verify'));
const { arc } = require(path.join(lib, 'arc'));

const [port, file] = process.argv.slice(2);
const res = new Resolver({ timeout: 5000, tries: 1 });
res.setServers([`127.0.0.1:${port}`]);
// mailauth's resolver hook: (name, rrtype) -> the answer as node's dns.resolve gives it
const resolver = (name, rr) => res.resolve(name, rr);

(async () => {
    const msg = Buffer.from(fs.readFileSync(file).toString('latin1').replace(/\r?\n/g, '\r\n'),
        'latin1');
    const dk = await dkimVerify(msg, { resolver });
    const r = await arc(dk.arc, { resolver });
    console.log(r.status.result, r.status.comment || '');
    process.exit(r.status.result === 'pass' ? 0 : 1);
})().catch(err => {
    console.log('error', err.message);
    process.exit(2);
});
