using System.Security.Cryptography;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Accounts;

/// <summary>Servers of one account (spec §3): every query is filtered by the account id.</summary>
public sealed class ServerService(MailroomDb db, Secrets secrets, PlatformSettings platform, TimeProvider clock)
{
    private static readonly string[] Colors = ["purple", "blue", "turquoise", "green", "red", "yellow", "grey", "orange"];

    public async Task<ServerList> ListAsync(int accountId, Paging paging, string? name, CancellationToken ct = default)
    {
        var q = db.Servers.AsNoTracking().Where(s => s.AccountId == accountId);
        if (!string.IsNullOrEmpty(name))
        {
            var pattern = "%" + name.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            var lower = pattern.ToLowerInvariant();
            q = q.Where(s => EF.Functions.Like(s.NormalizedName, lower, "\\"));
        }
        var total = await q.CountAsync(ct);
        var page = await q.OrderBy(s => s.Id).Skip(paging.Offset).Take(paging.Count).Include(s => s.Tokens).ToListAsync(ct);
        return new ServerList(total, page.Select(ToResponse).ToList());
    }

    public async Task<ServerResponse> GetAsync(int accountId, int serverId, CancellationToken ct = default) =>
        ToResponse(await LoadAsync(accountId, serverId, tracking: false, ct));

    public async Task<ServerResponse> CreateAsync(int accountId, ServerRequest request, CancellationToken ct = default)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 255 || name.AsSpan().IndexOfAny('\r', '\n') >= 0)
            throw new MailroomException(PostmarkErrors.InvalidServerName, "The server 'Name' is required and must be 1 to 255 characters.");
        var now = clock.GetUtcNow().UtcDateTime;
        var server = new Server { AccountId = accountId, Name = name, NormalizedName = name.ToLowerInvariant(), CreatedAt = now };
        if (request.DeliveryType is not null)
        {
            server.DeliveryType = request.DeliveryType.ToLowerInvariant() switch
            {
                "live" => DeliveryType.Live,
                "sandbox" => DeliveryType.Sandbox,
                _ => throw new MailroomException(PostmarkErrors.InvalidDeliveryType, $"Invalid 'DeliveryType': '{request.DeliveryType}'. Use 'Live' or 'Sandbox'."),
            };
        }
        Apply(server, request);
        await EnsureUniqueAsync(server, ct);
        server.InboundHash = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var token = Secrets.NewToken();
        server.Tokens.Add(new ServerToken { TokenHash = Secrets.Hash(token), ProtectedToken = secrets.ProtectToken(token), CreatedAt = now });
        db.Servers.Add(server);
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await SaveUniqueAsync(ct);
            db.MessageStreams.AddRange(MessageStreamService.DefaultStreams(server.Id, now));
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        return ToResponse(server);
    }

    public async Task<ServerResponse> EditAsync(int accountId, int serverId, ServerRequest request, CancellationToken ct = default)
    {
        var server = await LoadAsync(accountId, serverId, tracking: true, ct);
        if (request.Name is not null)
        {
            var name = request.Name.Trim();
            if (name.Length is 0 or > 255 || name.AsSpan().IndexOfAny('\r', '\n') >= 0)
                throw new MailroomException(PostmarkErrors.InvalidServerName, "The server 'Name' must be 1 to 255 characters.");
            server.Name = name;
            server.NormalizedName = name.ToLowerInvariant();
        }
        if (request.DeliveryType is not null &&
            !string.Equals(request.DeliveryType, server.DeliveryType.ToString(), StringComparison.OrdinalIgnoreCase))
            throw new MailroomException(PostmarkErrors.InvalidDeliveryType, "'DeliveryType' can only be set when the server is created.");
        Apply(server, request);
        await EnsureUniqueAsync(server, ct);
        await SaveUniqueAsync(ct);
        return ToResponse(server);
    }

    public async Task DeleteAsync(int accountId, int serverId, CancellationToken ct = default)
    {
        var server = await LoadAsync(accountId, serverId, tracking: true, ct);
        db.Servers.Remove(server);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Replaces the server's API tokens with one new token (the web app's "rotate"): every request with an old token
    /// is refused from now on (the settings cache empties on this write). Returns the new token.
    /// </summary>
    public async Task<string> RotateTokenAsync(int accountId, int serverId, CancellationToken ct = default)
    {
        var server = await LoadAsync(accountId, serverId, tracking: true, ct);
        var token = Secrets.NewToken();
        db.ServerTokens.RemoveRange(server.Tokens);
        db.ServerTokens.Add(new ServerToken
        {
            ServerId = server.Id, TokenHash = Secrets.Hash(token), ProtectedToken = secrets.ProtectToken(token),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(ct);
        return token;
    }

    private async Task<Server> LoadAsync(int accountId, int serverId, bool tracking, CancellationToken ct)
    {
        var q = tracking ? db.Servers : db.Servers.AsNoTracking();
        return await q.Include(s => s.Tokens).FirstOrDefaultAsync(s => s.Id == serverId && s.AccountId == accountId, ct)
            ?? throw MailroomException.NotFound(PostmarkErrors.ServerNotFound, $"Server '{serverId}' was not found.");
    }

    private static void Apply(Server server, ServerRequest r)
    {
        if (r.Color is not null)
        {
            var color = r.Color.Trim().ToLowerInvariant();
            if (color == "turqoise") color = "turquoise"; // the spelling of Postmark's Swagger and .NET client
            if (!Colors.Contains(color))
                throw new MailroomException(PostmarkErrors.InvalidServerColor, $"Invalid 'Color': '{r.Color}'. Use one of {string.Join(", ", Colors)}.");
            server.Color = color;
        }
        if (r.SmtpApiActivated is { } smtp) server.SmtpApiActivated = smtp;
        if (r.RawEmailEnabled is { } raw) server.RawEmailEnabled = raw;
        if (r.InboundHookUrl is not null) server.InboundHookUrl = HookUrl(r.InboundHookUrl, "InboundHookUrl");
        if (r.BounceHookUrl is not null) server.BounceHookUrl = HookUrl(r.BounceHookUrl, "BounceHookUrl");
        if (r.OpenHookUrl is not null) server.OpenHookUrl = HookUrl(r.OpenHookUrl, "OpenHookUrl");
        if (r.DeliveryHookUrl is not null) server.DeliveryHookUrl = HookUrl(r.DeliveryHookUrl, "DeliveryHookUrl");
        if (r.ClickHookUrl is not null) server.ClickHookUrl = HookUrl(r.ClickHookUrl, "ClickHookUrl");
        if (r.PostFirstOpenOnly is { } first) server.PostFirstOpenOnly = first;
        if (r.InboundDomain is not null)
        {
            var domain = r.InboundDomain.Trim().TrimEnd('.').ToLowerInvariant();
            if (domain.Length == 0)
                server.InboundDomain = null;
            else if (!Mailroom.Mail.Addresses.EmailAddress.IsValidDomain(domain))
                throw new MailroomException(PostmarkErrors.InvalidInboundDomain, $"Invalid 'InboundDomain': '{r.InboundDomain}'.");
            else
                server.InboundDomain = domain;
        }
        if (r.InboundSpamThreshold is { } spam)
        {
            if (spam is < 0 or > 30 || spam % 5 != 0)
                throw new MailroomException(PostmarkErrors.InvalidSpamThreshold, "'InboundSpamThreshold' must be 0 to 30 in steps of 5.");
            server.InboundSpamThreshold = spam;
        }
        if (r.TrackOpens is { } opens) server.TrackOpens = opens;
        if (r.TrackLinks is not null)
        {
            if (!Enum.TryParse<LinkTracking>(r.TrackLinks, ignoreCase: true, out var links) || !Enum.IsDefined(links) || int.TryParse(r.TrackLinks, out _))
                throw new MailroomException(PostmarkErrors.InvalidTrackLinks, $"Invalid 'TrackLinks': '{r.TrackLinks}'. Use None, HtmlAndText, HtmlOnly or TextOnly.");
            server.TrackLinks = links;
        }
        if (r.IncludeBounceContentInHook is { } content) server.IncludeBounceContentInHook = content;
        if (r.EnableSmtpApiErrorHooks is { } hooks) server.EnableSmtpApiErrorHooks = hooks;
    }

    /// <summary>An http(s) URL, or empty to clear (spec: 606).</summary>
    private static string HookUrl(string value, string field)
    {
        value = value.Trim();
        if (value.Length == 0)
            return "";
        if (value.Length > 2000 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) ||
            (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
            throw new MailroomException(PostmarkErrors.InvalidHookUrl, $"Invalid '{field}': '{value}'. Use an absolute http or https URL.");
        return value;
    }

    private async Task EnsureUniqueAsync(Server server, CancellationToken ct)
    {
        // An index lookup: the normalized name is stored (a lower() in the query would scan every server).
        if (await db.Servers.AnyAsync(s => s.AccountId == server.AccountId && s.Id != server.Id && s.NormalizedName == server.NormalizedName, ct))
            throw new MailroomException(PostmarkErrors.ServerNameExists, $"A server named '{server.Name}' already exists.");
        if (server.InboundDomain is not null &&
            await db.Servers.AnyAsync(s => s.Id != server.Id && s.InboundDomain == server.InboundDomain, ct))
            throw new MailroomException(PostmarkErrors.InboundDomainInUse, $"The inbound domain '{server.InboundDomain}' is already in use.");
    }

    /// <summary>Saves; a unique-index race that the checks above could not see answers as a duplicate name.</summary>
    private Task SaveUniqueAsync(CancellationToken ct) =>
        db.SaveUniqueAsync(() => new MailroomException(PostmarkErrors.ServerNameExists, "A server with this name or inbound domain already exists."), ct);

    internal ServerResponse ToResponse(Server s) => new()
    {
        ID = s.Id,
        Name = s.Name,
        ApiTokens = s.Tokens.OrderBy(t => t.Id).Select(t => secrets.UnprotectToken(t.ProtectedToken)).ToList(),
        ServerLink = $"{platform.PublicUrl.TrimEnd('/')}/servers/{s.Id}/streams",
        Color = s.Color,
        SmtpApiActivated = s.SmtpApiActivated,
        RawEmailEnabled = s.RawEmailEnabled,
        DeliveryType = s.DeliveryType.ToString(),
        InboundAddress = $"{s.InboundHash}@{platform.InboundHost}",
        InboundHookUrl = s.InboundHookUrl,
        BounceHookUrl = s.BounceHookUrl,
        OpenHookUrl = s.OpenHookUrl,
        DeliveryHookUrl = s.DeliveryHookUrl,
        ClickHookUrl = s.ClickHookUrl,
        PostFirstOpenOnly = s.PostFirstOpenOnly,
        InboundDomain = s.InboundDomain ?? "",
        InboundHash = s.InboundHash,
        InboundSpamThreshold = s.InboundSpamThreshold,
        TrackOpens = s.TrackOpens,
        TrackLinks = s.TrackLinks.ToString(),
        IncludeBounceContentInHook = s.IncludeBounceContentInHook,
        EnableSmtpApiErrorHooks = s.EnableSmtpApiErrorHooks,
    };
}
