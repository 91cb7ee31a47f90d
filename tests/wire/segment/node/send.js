// Drives the real @segment/analytics-node SDK for tests/wire/segment/test_sdks.py.
// argv: host, writeKey, then a JSON array of [method, params] calls; an object
// {"flush": true} between calls flushes first (so the calls after it go in a later request).
// Prints one JSON line: the errors the SDK reported.
'use strict'
const { Analytics } = require('@segment/analytics-node')

async function main() {
  const [host, writeKey, callsJson] = process.argv.slice(2)
  const calls = JSON.parse(callsJson)
  const analytics = new Analytics({ writeKey, host, flushInterval: 50, maxRetries: 3 })
  const errors = []
  analytics.on('error', (err) => errors.push(String(err && (err.reason || err.message || err))))
  for (const call of calls) {
    if (call.flush) {
      await analytics.flush()
      continue
    }
    const [method, params] = call
    analytics[method](params)
  }
  await analytics.closeAndFlush({ timeout: 20000 })
  process.stdout.write(JSON.stringify({ errors }) + '\n')
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack) + '\n')
  process.exit(1)
})
