// Helpers shared by the SDK checks: the environment they run in, and how a difference is
// reported (an Error whose message says what was expected).

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

export const check = (ok, what) => {
  if (!ok) throw new Error(`check failed: ${what}`);
};

export const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Awaits `promise`, which must fail with an error of `type`; returns that error. */
export const expectError = async (promise, type, what) => {
  try {
    await promise;
  } catch (e) {
    check(e instanceof type, `${what}: expected ${type.name}, got ${e.name}: ${e.message}`);
    return e;
  }
  throw new Error(`${what} succeeded`);
};

/** The client options for the server the test started, with these credentials. */
export const clientOptions = (credentials) => ({
  endpoint: env("RAMPART_ENDPOINT"),
  region: env("AWS_REGION"),
  credentials,
  maxAttempts: 1,
});

/** The credentials of the environment (the account root's in the tests). */
export const rootCredentials = () => ({
  accessKeyId: env("AWS_ACCESS_KEY_ID"),
  secretAccessKey: env("AWS_SECRET_ACCESS_KEY"),
});

/** Runs `run`, prints "ok" or the first difference, and exits with 1 on a difference. */
export const main = async (run) => {
  try {
    await run();
    console.log("ok");
  } catch (e) {
    console.error(`${e.name}: ${e.message}`);
    process.exit(1);
  }
};
