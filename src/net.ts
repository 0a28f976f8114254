/**
 * Network helpers shared by Baton's HTTP adapters.
 *
 * @module
 */

/**
 * Whether a host name or address is the local machine only.
 * @param host a name or IP address (IPv6 with or without brackets)
 * @returns true for localhost, 127.0.0.0/8 and ::1
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Whether a `Host` header is well formed: a name or a bracketed IPv6
 * address, and an optional port. `[::1]evil.com` only starts like a
 * loopback address.
 * @param host the header's value
 * @returns true when well formed
 */
export function isWellFormedHost(host: string): boolean {
  return /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.test(host);
}
