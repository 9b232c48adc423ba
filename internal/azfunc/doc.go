// Package azfunc implements the Azure Functions custom-handler protocol for
// Herald: it decodes the invocations the Functions host sends, calls the
// registered Go handlers and encodes the replies the host expects.
//
// # How requests reach the binary under the Functions host
//
// The host starts the binary with FUNCTIONS_CUSTOMHANDLER_PORT set (see
// [AddrFrom]) and talks to it over HTTP on 127.0.0.1 in two ways:
//
//   - Non-HTTP functions (the ScanSchedules timer, the GenerateReport and
//     DeliverReport Service Bus triggers) arrive as POST /<FunctionName> with a
//     JSON envelope {"Data": {...}, "Metadata": {...}}. [Server] decodes them,
//     calls the registered [TimerFunc] or [MessageFunc] and replies
//     {"Outputs": {}, "Logs": [...], "ReturnValue": null}. A non-2xx reply
//     fails the invocation: a Service Bus message is abandoned, redelivered and
//     dead-lettered after maxDeliveryCount.
//   - The Api function is an HTTP trigger with route "{*path}" and host.json sets
//     customHandler.enableForwardingHttpRequest, so the host forwards the
//     original request (method, original absolute path, query, headers, body) and
//     relays our response unchanged. [Server] hands every request that is not a
//     registered invocation to the API handler.
//
// # Route prefix: "api", not ""
//
// host.json sets extensions.http.routePrefix to "api". The API lives at
// /api/v1/..., so its URLs are the same in both modes, and the prefix is a
// security boundary: with an empty prefix the catch-all route would also
// forward a public request such as POST /GenerateReport, which is exactly the
// path of a host invocation, and anyone could inject a forged Service Bus
// message or timer tick without a token. With the prefix, every forwarded path
// starts with /api/, and function names may not be "api" (see [Server.Timer]),
// so a forwarded request can never be mistaken for an invocation.
//
// The health endpoints are mounted by the router at /healthz and /readyz. In
// Azure they are reachable as /api/healthz and /api/readyz: [Server] rewrites
// those two forwarded paths to the router's paths (see [WithPathAlias]), so the
// router mounts health once and identically in both modes. The host's own
// start-up ping (GET /) is answered by the API handler; any status will do.
package azfunc
