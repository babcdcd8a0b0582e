using System.Text.Json;
using System.Text.RegularExpressions;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Mailroom.Mail.Templates;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Templates;

/// <summary>
/// Templates of one server (spec §11). Every query is filtered by the server id, so another server's ID or alias is
/// "not found" (1101). Every create, edit and restore stores a <see cref="TemplateVersion"/>.
/// </summary>
public sealed partial class TemplateService(MailroomDb db, TimeProvider clock)
{
    public const int MaxTemplatesPerServer = 100;
    public const int MaxNameLength = 255;
    public const int MaxSubjectLength = 2000;
    public const int MaxBodyLength = 5 * 1024 * 1024;

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9._-]*$")]
    private static partial Regex AliasSyntax();

    // ---- Reading ----

    public async Task<TemplateList> ListAsync(int serverId, int? count, int? offset, string? type, string? layout, CancellationToken ct)
    {
        // Count and Offset are required by Postmark (1100 when missing).
        if (count is null || offset is null)
            throw new MailroomException(PostmarkErrors.InvalidTemplateQuery, "The 'Count' and 'Offset' query parameters are required.");
        var paging = Paging.Validate(count, offset, 1100);
        var q = db.Templates.AsNoTracking().Where(t => t.ServerId == serverId);
        switch (type?.ToLowerInvariant())
        {
            case null or "all":
                break;
            case "standard":
                q = q.Where(t => t.Type == TemplateType.Standard);
                break;
            case "layout":
                q = q.Where(t => t.Type == TemplateType.Layout);
                break;
            default:
                throw new MailroomException(PostmarkErrors.InvalidTemplateQuery, $"Invalid 'TemplateType': '{type}'. Use 'All', 'Standard' or 'Layout'.");
        }
        if (!string.IsNullOrEmpty(layout))
            q = q.Where(t => t.LayoutAlias == layout);
        var total = await q.CountAsync(ct);
        var page = await q.OrderBy(t => t.Id).Skip(paging.Offset).Take(paging.Count).ToListAsync(ct);
        return new TemplateList(total, page.Select(t => new TemplateSummary(true, t.Id, t.Name, t.Alias, t.Type.ToString(), t.LayoutAlias)).ToList());
    }

    public async Task<TemplateResponse> GetAsync(int serverId, string idOrAlias, CancellationToken ct) =>
        ToResponse(await FindAsync(serverId, idOrAlias, tracking: false, ct));

    /// <summary>The template named by a path segment: an int is an ID, anything else an alias (case-insensitive).</summary>
    public async Task<Template> FindAsync(int serverId, string idOrAlias, bool tracking, CancellationToken ct)
    {
        var q = tracking ? db.Templates : db.Templates.AsNoTracking();
        Template? t;
        if (int.TryParse(idOrAlias, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            t = await q.FirstOrDefaultAsync(x => x.ServerId == serverId && x.Id == id, ct);
        else
        {
            var normalized = idOrAlias.ToLowerInvariant();
            t = await q.FirstOrDefaultAsync(x => x.ServerId == serverId && x.NormalizedAlias == normalized, ct);
        }
        return t ?? throw NotFound(idOrAlias);
    }

    private static MailroomException NotFound(string idOrAlias) =>
        MailroomException.NotFound(PostmarkErrors.TemplateNotFound, $"The template '{idOrAlias}' was not found.");

    // ---- Writing ----

    public async Task<TemplateSaved> CreateAsync(int serverId, TemplateRequest r, CancellationToken ct)
    {
        var type = ParseType(r.TemplateType) ?? TemplateType.Standard;
        var now = clock.GetUtcNow().UtcDateTime;
        var t = new Template { ServerId = serverId, Name = "", Type = type, CreatedAt = now, UpdatedAt = now, Version = 1 };
        ApplyFields(t, r, creating: true);
        await CheckAsync(t, previousAlias: null, ct);
        if (await db.Templates.CountAsync(x => x.ServerId == serverId, ct) >= MaxTemplatesPerServer)
            throw new MailroomException(PostmarkErrors.TemplateLimitReached, $"A server may hold at most {MaxTemplatesPerServer} templates.");
        db.Templates.Add(t);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await SaveUniqueAsync(t, ct);
        db.TemplateVersions.Add(Snapshot(t, now));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return ToSaved(t);
    }

    public async Task<TemplateSaved> EditAsync(int serverId, string idOrAlias, TemplateRequest r, CancellationToken ct)
    {
        var t = await FindAsync(serverId, idOrAlias, tracking: true, ct);
        if (r is { Name: null, Subject: null, HtmlBody: null, TextBody: null, Alias: null, TemplateType: null, LayoutTemplate: null })
            throw new MailroomException(PostmarkErrors.NoTemplateData, "No template data was received: give at least one field to change.");
        var type = ParseType(r.TemplateType);
        if (type is not null && type != t.Type)
            throw new MailroomException(PostmarkErrors.TemplateFieldNotAllowed, "The 'TemplateType' of a template cannot be changed after it is created.");
        var previousAlias = t.Alias;
        ApplyFields(t, r, creating: false);
        await CheckAsync(t, previousAlias, ct);
        await SaveNewVersionAsync(t, ct);
        return ToSaved(t);
    }

    public async Task DeleteAsync(int serverId, string idOrAlias, CancellationToken ct)
    {
        var t = await FindAsync(serverId, idOrAlias, tracking: true, ct);
        if (t.Type == TemplateType.Layout && await LayoutInUseAsync(serverId, t.Alias, ct))
            throw new MailroomException(PostmarkErrors.LayoutInUse, $"The layout '{t.Alias}' is used by other templates and cannot be deleted.");
        db.Templates.Remove(t);
        await db.SaveChangesAsync(ct);
    }

    private Task<bool> LayoutInUseAsync(int serverId, string? alias, CancellationToken ct) =>
        alias is null ? Task.FromResult(false) : db.Templates.AnyAsync(x => x.ServerId == serverId && x.LayoutAlias == alias, ct);

    private static TemplateType? ParseType(string? value) => value?.ToLowerInvariant() switch
    {
        null => null,
        "standard" => TemplateType.Standard,
        "layout" => TemplateType.Layout,
        _ => throw new MailroomException(PostmarkErrors.InvalidTemplateField, $"Invalid 'TemplateType': '{value}'. Use 'Standard' or 'Layout'."),
    };

    /// <summary>Copies the request onto the template; on edit a null field keeps its value.</summary>
    private static void ApplyFields(Template t, TemplateRequest r, bool creating)
    {
        if (creating || r.Name is not null)
        {
            var name = r.Name?.Trim();
            if (string.IsNullOrEmpty(name))
                throw new MailroomException(PostmarkErrors.TemplateFieldMissing, "The template 'Name' is required.");
            if (name.Length > MaxNameLength)
                throw new MailroomException(PostmarkErrors.TemplateFieldTooLarge, $"The template 'Name' may be at most {MaxNameLength} characters.");
            t.Name = name;
        }
        if (r.Alias is not null)
        {
            var alias = r.Alias.Trim();
            if (alias.Length == 0)
            {
                t.Alias = null;
            }
            else
            {
                if (alias.Length > MaxNameLength)
                    throw new MailroomException(PostmarkErrors.TemplateFieldTooLarge, $"The template 'Alias' may be at most {MaxNameLength} characters.");
                if (!AliasSyntax().IsMatch(alias))
                    throw new MailroomException(PostmarkErrors.InvalidTemplateField, $"Invalid 'Alias': '{alias}'. An alias starts with a letter and holds only letters, digits, '.', '_' and '-'.");
                t.Alias = alias;
            }
            t.NormalizedAlias = t.Alias?.ToLowerInvariant();
        }
        if (r.Subject is not null)
        {
            if (t.Type == TemplateType.Layout)
                throw new MailroomException(PostmarkErrors.TemplateFieldNotAllowed, "A layout has no 'Subject': only Standard templates do.");
            if (r.Subject.Length > MaxSubjectLength)
                throw new MailroomException(PostmarkErrors.TemplateFieldTooLarge, $"The template 'Subject' may be at most {MaxSubjectLength} characters.");
            t.Subject = r.Subject;
        }
        if (r.HtmlBody is not null)
            t.HtmlBody = r.HtmlBody.Length == 0 ? null : r.HtmlBody;
        if (r.TextBody is not null)
            t.TextBody = r.TextBody.Length == 0 ? null : r.TextBody;
        if ((t.HtmlBody?.Length ?? 0) > MaxBodyLength || (t.TextBody?.Length ?? 0) > MaxBodyLength)
            throw new MailroomException(PostmarkErrors.TemplateFieldTooLarge, "The template 'HtmlBody' and 'TextBody' may each be at most 5 MB.");
        if (r.LayoutTemplate is not null)
        {
            if (t.Type == TemplateType.Layout && r.LayoutTemplate.Length > 0)
                throw new MailroomException(PostmarkErrors.TemplateFieldNotAllowed, "A layout cannot itself use a 'LayoutTemplate'.");
            t.LayoutAlias = r.LayoutTemplate.Trim().Length == 0 ? null : r.LayoutTemplate.Trim();
        }
    }

    /// <summary>The rules that need the whole template or the database.</summary>
    private async Task CheckAsync(Template t, string? previousAlias, CancellationToken ct)
    {
        if (t.HtmlBody is null && t.TextBody is null)
            throw new MailroomException(PostmarkErrors.TemplateFieldMissing, "A template needs an 'HtmlBody' or a 'TextBody'.");
        if (t.Type == TemplateType.Standard && string.IsNullOrEmpty(t.Subject))
            throw new MailroomException(PostmarkErrors.TemplateFieldMissing, "A Standard template needs a 'Subject'.");
        if (t.Type == TemplateType.Layout && t.Alias is null)
            throw new MailroomException(PostmarkErrors.TemplateFieldMissing, "A layout needs an 'Alias': templates name their layout by it.");
        CheckContent(t.Type, t.Subject, t.HtmlBody, t.TextBody);
        if (t.Alias is not null && await db.Templates.AnyAsync(x => x.ServerId == t.ServerId && x.Id != t.Id && x.NormalizedAlias == t.NormalizedAlias, ct))
            throw new MailroomException(PostmarkErrors.InvalidTemplateField, $"The alias '{t.Alias}' is already used by another template of this server.");
        if (t.Type == TemplateType.Layout && previousAlias is not null && !string.Equals(previousAlias, t.Alias, StringComparison.Ordinal)
            && await LayoutInUseAsync(t.ServerId, previousAlias, ct))
            throw new MailroomException(PostmarkErrors.LayoutInUse, $"The layout '{previousAlias}' is used by other templates: its alias cannot change.");
        if (t.LayoutAlias is not null)
        {
            var layout = await db.Templates.AsNoTracking().FirstOrDefaultAsync(
                x => x.ServerId == t.ServerId && x.NormalizedAlias == t.LayoutAlias.ToLowerInvariant(), ct);
            if (layout is null || layout.Type != TemplateType.Layout)
                throw new MailroomException(PostmarkErrors.TemplateNotFound, $"The layout '{t.LayoutAlias}' was not found.");
            t.LayoutAlias = layout.Alias; // stored as the layout writes it, so lookups and the in-use check match
        }
    }

    /// <summary>Every part must parse; a layout's bodies hold <c>{{{ @content }}}</c> exactly once (1131).</summary>
    internal static void CheckContent(TemplateType type, string? subject, string? html, string? text)
    {
        foreach (var (field, source, content) in new[] { ("Subject", subject, false), ("HtmlBody", html, true), ("TextBody", text, true) })
        {
            if (source is null)
                continue;
            var isLayout = type == TemplateType.Layout && content;
            var parsed = TemplateParser.TryParse(source, isLayout, out var errors);
            if (parsed is null)
            {
                var e = errors[0];
                throw new MailroomException(PostmarkErrors.InvalidTemplateField, $"The template '{field}' is invalid: {e.Message} (line {e.Line}, character {e.CharacterPosition}).");
            }
            if (isLayout && parsed.ContentPlaceholders != 1)
                throw new MailroomException(PostmarkErrors.LayoutContentPlaceholder, $"A layout's '{field}' must hold '{{{{{{ @content }}}}}}' exactly once.");
        }
    }

    private async Task SaveNewVersionAsync(Template t, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        t.Version++;
        t.UpdatedAt = now;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.TemplateVersions.Add(Snapshot(t, now));
        await SaveUniqueAsync(t, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Saves; a concurrent create of the same alias loses on the unique index and gets 1122, as the check would.</summary>
    private Task SaveUniqueAsync(Template t, CancellationToken ct) =>
        db.SaveUniqueAsync(() => new MailroomException(PostmarkErrors.InvalidTemplateField, $"The alias '{t.Alias}' is already used by another template of this server."), ct);

    private static TemplateVersion Snapshot(Template t, DateTime now) => new()
    {
        TemplateId = t.Id,
        Version = t.Version,
        Name = t.Name,
        Alias = t.Alias,
        Subject = t.Subject,
        HtmlBody = t.HtmlBody,
        TextBody = t.TextBody,
        LayoutAlias = t.LayoutAlias,
        CreatedAt = now,
    };

    // ---- Versions (Mailroom's extension) ----

    public async Task<TemplateVersionList> VersionsAsync(int serverId, string idOrAlias, CancellationToken ct)
    {
        var t = await FindAsync(serverId, idOrAlias, tracking: false, ct);
        var versions = await db.TemplateVersions.AsNoTracking().Where(v => v.TemplateId == t.Id).OrderByDescending(v => v.Version).ToListAsync(ct);
        return new TemplateVersionList(versions.Count, versions.Select(v => new TemplateVersionResponse(
            v.Version, v.Name, v.Alias, v.Subject, v.HtmlBody, v.TextBody, v.LayoutAlias, new DateTimeOffset(v.CreatedAt, TimeSpan.Zero))).ToList());
    }

    /// <summary>Makes version <paramref name="version"/> current again, as a new version (history is never rewritten).</summary>
    public async Task<TemplateResponse> RestoreAsync(int serverId, string idOrAlias, int version, CancellationToken ct)
    {
        var t = await FindAsync(serverId, idOrAlias, tracking: true, ct);
        var v = await db.TemplateVersions.AsNoTracking().FirstOrDefaultAsync(x => x.TemplateId == t.Id && x.Version == version, ct)
            ?? throw MailroomException.NotFound(PostmarkErrors.TemplateNotFound, $"Template '{idOrAlias}' has no version {version}.");
        var previousAlias = t.Alias;
        t.Name = v.Name;
        t.Alias = v.Alias;
        t.NormalizedAlias = v.Alias?.ToLowerInvariant();
        t.Subject = v.Subject;
        t.HtmlBody = v.HtmlBody;
        t.TextBody = v.TextBody;
        t.LayoutAlias = v.LayoutAlias;
        await CheckAsync(t, previousAlias, ct);
        await SaveNewVersionAsync(t, ct);
        return ToResponse(t);
    }

    // ---- Push (account token) ----

    /// <summary>
    /// Copies the source server's aliased templates to the destination, matching by alias: a missing alias is
    /// created, a differing one edited, an identical one left alone. Layouts go first, so the templates that use
    /// them find them. <c>PerformChanges: false</c> answers the same list and changes nothing.
    /// </summary>
    public async Task<TemplatePushResponse> PushAsync(int accountId, TemplatePushRequest r, CancellationToken ct)
    {
        if (r.SourceServerID is not { } sourceId || r.DestinationServerID is not { } destinationId)
            throw new MailroomException(PostmarkErrors.TemplateFieldMissing, "'SourceServerID' and 'DestinationServerID' are required.");
        if (r.PerformChanges is not { } perform)
            throw new MailroomException(PostmarkErrors.TemplateFieldMissing, "'PerformChanges' is required (false answers what a push would change).");
        foreach (var id in new[] { sourceId, destinationId })
            if (!await db.Servers.AnyAsync(s => s.Id == id && s.AccountId == accountId, ct))
                throw MailroomException.NotFound(PostmarkErrors.ServerNotFound, $"Server '{id}' was not found.");
        if (sourceId == destinationId)
            throw new MailroomException(PostmarkErrors.TemplateFieldNotAllowed, "The source and destination servers must differ.");

        var source = await db.Templates.AsNoTracking().Where(t => t.ServerId == sourceId && t.Alias != null).ToListAsync(ct);
        if (source.Count == 0)
            throw new MailroomException(PostmarkErrors.NothingToPush, "The source server has no templates with an alias: there is nothing to push.");
        var destination = await db.Templates.Where(t => t.ServerId == destinationId).ToListAsync(ct);
        var byAlias = destination.Where(t => t.NormalizedAlias != null).ToDictionary(t => t.NormalizedAlias!);

        var plan = new List<(Template Source, Template? Target)>();
        foreach (var s in source.OrderBy(t => t.Type == TemplateType.Layout ? 0 : 1).ThenBy(t => t.Id))
        {
            byAlias.TryGetValue(s.NormalizedAlias!, out var target);
            if (target is not null && target.Type != s.Type)
                throw new MailroomException(PostmarkErrors.TemplateTypesDiffer, $"The template '{s.Alias}' is a {s.Type} on the source server but a {target.Type} on the destination.");
            if (target is not null && SameContent(s, target))
                continue;
            plan.Add((s, target));
        }
        if (destination.Count + plan.Count(p => p.Target is null) > MaxTemplatesPerServer)
            throw new MailroomException(PostmarkErrors.TemplateLimitReached, $"The push would leave the destination with more than {MaxTemplatesPerServer} templates.");

        var items = new List<TemplatePushItem>();
        if (perform && plan.Count > 0)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var created = new List<Template>();
            foreach (var (s, target) in plan)
            {
                var t = target ?? new Template { ServerId = destinationId, Name = s.Name, Type = s.Type, CreatedAt = now, Version = 0 };
                t.Name = s.Name;
                t.Alias = s.Alias;
                t.NormalizedAlias = s.NormalizedAlias;
                t.Subject = s.Subject;
                t.HtmlBody = s.HtmlBody;
                t.TextBody = s.TextBody;
                t.LayoutAlias = s.LayoutAlias;
                t.Version++;
                t.UpdatedAt = now;
                if (target is null)
                {
                    db.Templates.Add(t);
                    created.Add(t);
                }
            }
            await db.SaveChangesAsync(ct);
            foreach (var (s, target) in plan)
            {
                var t = target ?? created.First(c => c.NormalizedAlias == s.NormalizedAlias);
                db.TemplateVersions.Add(Snapshot(t, now));
                items.Add(new TemplatePushItem(target is null ? "Create" : "Edit", t.Id, t.Alias, t.Name, t.Type.ToString()));
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        else
        {
            foreach (var (s, target) in plan)
                items.Add(new TemplatePushItem(target is null ? "Create" : "Edit", target?.Id, s.Alias, s.Name, s.Type.ToString()));
        }
        return new TemplatePushResponse(items.Count, items);
    }

    private static bool SameContent(Template a, Template b) =>
        a.Name == b.Name && a.Alias == b.Alias && a.Subject == b.Subject && a.HtmlBody == b.HtmlBody && a.TextBody == b.TextBody
        && a.LayoutAlias == b.LayoutAlias;

    // ---- Shapes ----

    private static TemplateSaved ToSaved(Template t) => new(t.Id, t.Name, true, t.Alias, t.Type.ToString(), t.LayoutAlias);

    private static TemplateResponse ToResponse(Template t) => new()
    {
        TemplateId = t.Id,
        Name = t.Name,
        Alias = t.Alias,
        Subject = t.Subject,
        HtmlBody = t.HtmlBody,
        TextBody = t.TextBody,
        AssociatedServerId = t.ServerId,
        Active = true,
        TemplateType = t.Type.ToString(),
        LayoutTemplate = t.LayoutAlias,
        Version = t.Version,
    };
}
