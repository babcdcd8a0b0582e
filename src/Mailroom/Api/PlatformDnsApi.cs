using Mailroom.Core.Identities;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary><c>GET /health/dns</c>: which of the platform domain's records (<c>mailroom dns</c>) DNS serves now.
/// No token: it shows only what is public in DNS anyway. Each call looks the records up afresh.</summary>
public static class PlatformDnsApi
{
    public static void MapPlatformDnsApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/health/dns", async (PlatformSettings platform, PlatformDnsRecords records, HttpContext http) =>
            platform.PlatformDomain is null
                ? Ok(new PlatformDnsStatus("", false, []))
                : Ok(await records.CheckAsync(http.RequestAborted)));
}
