#!/usr/bin/env node
// Runs the Khronos glTF-Validator (npm package gltf-validator, installed by
// scripts/setup into tools/npm) on one .glb or .gltf file and prints one
// JSON line: {"errors":N,"warnings":N,"infos":N,"hints":N,"messages":[...]}
// (the messages of severity error and warning, at most 20). Exit status 0
// when there are no errors and no warnings, 1 when there are, 2 when the
// file cannot be read or the validator is not installed.
'use strict';
const fs = require('fs');
const path = require('path');

const file = process.argv[2];
if (!file) {
	console.error('usage: node scripts/gltf-validate.js FILE.glb|FILE.gltf');
	process.exit(2);
}
const dir = process.env.THETA_NPM_DIR || path.join(__dirname, '..', 'tools', 'npm');
let validator;
try {
	validator = require(path.join(dir, 'node_modules', 'gltf-validator'));
} catch (e) {
	console.error(`gltf-validate: the validator is not installed in ${dir} (run scripts/setup with npm present)`);
	process.exit(2);
}
let bytes;
try {
	bytes = new Uint8Array(fs.readFileSync(file));
} catch (e) {
	console.error(`gltf-validate: cannot read ${file}: ${e.message}`);
	process.exit(2);
}
validator
	.validateBytes(bytes, {
		uri: path.basename(file),
		maxIssues: 0,
		// Everything this project writes is self-contained: an outside
		// resource is a fault of the file.
		externalResourceFunction: (uri) => Promise.reject(new Error(`outside resource ${uri}`)),
	})
	.then((report) => {
		const i = report.issues;
		const bad = i.messages.filter((m) => m.severity <= 1).slice(0, 20);
		console.log(JSON.stringify({
			errors: i.numErrors, warnings: i.numWarnings, infos: i.numInfos, hints: i.numHints,
			messages: bad.map((m) => ({ code: m.code, message: m.message, pointer: m.pointer })),
		}));
		process.exit(i.numErrors || i.numWarnings ? 1 : 0);
	})
	.catch((e) => {
		console.error(`gltf-validate: the validator failed on ${file}: ${e && e.message ? e.message : e}`);
		process.exit(2);
	});
