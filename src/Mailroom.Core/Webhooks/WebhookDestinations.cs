using System.Net;
using System.Net.Sockets;

namespace Mailroom.Core.Webhooks;

/// <summary>Operator settings of webhook delivery.</summary>
public sealed class WebhookOptions
{
    /// <summary><c>--allow-private-webhooks</c>: let customers' endpoints be loopback, private, link-local... addresses
    /// (a single-tenant install posting to its own network). Off: such destinations are refused.</summary>
    public bool AllowPrivateDestinations { get; init; }
    /// <summary>How long one POST may take, connection included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>POSTs in flight to one host at most: a slow endpoint holds only its own slots.</summary>
    public int MaxConcurrencyPerHost { get; init; } = 4;
    /// <summary>POSTs in flight in all.</summary>
    public int MaxConcurrency { get; init; } = 64;
    /// <summary>Rows of one host claimed at once: large enough that a claim and a record (each a commit) are spread over
    /// many POSTs; a batch stops starting POSTs after half the lease, so a slow host cannot outlive its claim.</summary>
    public int ClaimBatch { get; init; } = 500;
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Bytes of a response body read at most (the rest is discarded with the connection).</summary>
    public int MaxResponseBytes { get; init; } = 64 * 1024;
    public int MaxRedirects { get; init; } = 10;
    public string NodeId { get; init; } = Environment.MachineName;
}

/// <summary>
/// Which addresses a customer's webhook may reach. A URL is a customer's input, so without a check it lets any
/// tenant make the platform send requests into its own network (SSRF): loopback, RFC 1918 private, RFC 6598 CGNAT,
/// RFC 3927 link-local (where cloud metadata services answer, 169.254.169.254), multicast, RFC 4193 unique-local and
/// reserved ranges are refused. The check runs where the socket connects, after DNS, so a name that resolves to a
/// public address at create time and to a private one later (DNS rebinding) is still refused.
/// </summary>
public static class WebhookDestinations
{
    public static bool IsRefused(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6)
            ip = ip.MapToIPv4();
        if (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || ip.Equals(IPAddress.Broadcast))
            return true;
        if (ip.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = ip.GetAddressBytes();
            return b[0] == 0                                   // "this network" (RFC 1122 §3.2.1.3)
                || b[0] == 10                                  // RFC 1918
                || b[0] == 100 && (b[1] & 0xC0) == 64          // RFC 6598 CGNAT 100.64/10 (also Alibaba's metadata 100.100.100.200)
                || b[0] == 169 && b[1] == 254                  // RFC 3927 link-local: cloud metadata 169.254.169.254
                || b[0] == 172 && (b[1] & 0xF0) == 16          // RFC 1918
                || b[0] == 192 && b[1] == 168                  // RFC 1918
                || b[0] == 192 && b[1] == 0 && b[2] == 0       // RFC 6890 IETF protocol assignments
                || b[0] == 198 && (b[1] & 0xFE) == 18          // RFC 2544 benchmarking
                || b[0] >= 224;                                // multicast 224/4, reserved 240/4
        }
        if (ip.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = ip.GetAddressBytes();
            return ip.IsIPv6LinkLocal || ip.IsIPv6SiteLocal || ip.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC                       // RFC 4193 unique-local fc00::/7 (AWS metadata fd00:ec2::254)
                || b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 // documentation
                || b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b; // NAT64 64:ff9b::/96 can reach IPv4 private space
        }
        return true;
    }

    /// <summary>Why an address is refused, for the API's and the attempts' messages.</summary>
    public static string Refusal(IPAddress ip) =>
        $"The destination address {ip} is loopback, private, link-local, CGNAT, multicast, metadata or reserved; webhooks may not " +
        "reach it (an operator can allow such destinations with --allow-private-webhooks).";
}

/// <summary>A destination the policy refuses: the attempt is dropped, never retried.</summary>
public sealed class RefusedDestinationException(string message) : Exception(message);
