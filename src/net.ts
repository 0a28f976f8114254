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
