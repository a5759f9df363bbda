/**
 * The attribute names the gateway's spans carry: the OpenTelemetry semantic conventions for HTTP
 * (stable) and messaging (still "incubating" upstream, so re-exported from there), plus the
 * gateway's own under `rsd.` (docs/observability.md, "Traces"). Loaded only with the SDK.
 */
export {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from "@opentelemetry/semantic-conventions";
export {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from "@opentelemetry/semantic-conventions/incubating";

/** Not one of the conventions' well-known systems: the conventions allow a custom value. */
export const MESSAGING_SYSTEM_REDIS = "redis";
export const ATTR_RSD_REQUEST_ID = "rsd.request.id";
export const ATTR_RSD_ATTEMPT = "rsd.attempt";
export const ATTR_RSD_POD = "rsd.pod";
export const ATTR_RSD_TERMINAL = "rsd.terminal";
export const ATTR_RSD_OUTCOME = "rsd.outcome";
export const ATTR_RSD_KIND = "rsd.request.kind";
export const ATTR_RSD_TENANT = "rsd.tenant";
