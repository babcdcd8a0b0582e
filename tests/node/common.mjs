// What the scripts here share: the environment the xunit side passes (tests/Mailroom.Tests/Infrastructure/NodeClient.cs
// sets HOST to the `mailroom serve` under test), Postmark's official clients (postmark 4.x) pointed at it over plain
// HTTP, and the check of a refused call's Postmark ErrorCode.
import assert from "node:assert/strict";
import * as postmark from "postmark";

/** The values of the named environment variables, in order; fails naming the missing ones. */
export function required(...names) {
  const missing = names.filter((n) => !process.env[n]);
  assert.ok(missing.length === 0, `${missing.join(", ")} required`);
  return names.map((n) => process.env[n]);
}

const options = () => ({ useHttps: false, requestHost: required("HOST")[0] });

export const serverClient = (token) => new postmark.ServerClient(token, options());
export const accountClient = (token) => new postmark.AccountClient(token, options());

/** Awaits a call that must fail with Postmark's ErrorCode `code`. */
export async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `expected ErrorCode ${code}, got ${e.code}: ${e.message}`);
    return true;
  });
}
