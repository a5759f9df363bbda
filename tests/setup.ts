import { setDefaultTimeout } from "bun:test";

// Integration tests start redis-server and service processes and push hundreds of requests
// through them on a shared 2-core machine: give each test a minute (every wait inside has its
// own, shorter deadline).
setDefaultTimeout(60_000);
