/** Asks the kernel for a free TCP port on 127.0.0.1 (bind to port 0, read it, release it). */
export { freePort } from "../../tools/scaffold/free-port.ts";
