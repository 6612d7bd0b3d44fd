// Validates FHIR R4 resources (JSON files) with the `fhir` npm package, as the integration tests
// need: prints one line per error and exits 1 if any file is not valid R4, 0 otherwise.
// Usage: node tests/fhir/validate.js FILE...
'use strict';
const fs = require('fs');
const { Fhir } = require('fhir');

const fhir = new Fhir();
let failed = false;
for (const file of process.argv.slice(2)) {
  let resource;
  try {
    resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`${file}: not JSON: ${e.message}`);
    failed = true;
    continue;
  }
  const result = fhir.validate(resource, { errorOnUnexpected: true });
  const errors = result.messages.filter((m) => m.severity === 'error');
  for (const m of errors) console.log(`${file}: ${m.location}: ${m.message}`);
  if (!result.valid || errors.length > 0) failed = true;
  else console.log(`${file}: valid FHIR R4 (${result.messages.length} informational message(s))`);
}
process.exit(failed ? 1 : 0);
