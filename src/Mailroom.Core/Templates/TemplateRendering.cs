using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Mailroom.Mail.Templates;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Templates;

/// <summary>
/// Rendering of stored and submitted templates: <c>POST /templates/validate</c> and the content of
/// <c>/email/withTemplate</c>. Templates are parsed once per request (a batch of 500 shares one parse).
/// </summary>
public sealed class TemplateRendering(MailroomDb db, TemplateService templates)
{
    /// <summary>A stored template, parsed, with its layout when it has one.</summary>
    public sealed record Prepared(Template Template, ParsedTemplate? Subject, ParsedTemplate? Html, ParsedTemplate? Text,
        ParsedTemplate? LayoutHtml, ParsedTemplate? LayoutText);

    /// <summary>The rendered content of one message.</summary>
    public sealed record Rendered(string? Subject, string? HtmlBody, string? TextBody, int TemplateId, int Version);

    private readonly Dictionary<string, Prepared> _prepared = new(StringComparer.OrdinalIgnoreCase);

    // ---- Sending ----

    /// <summary>Renders one templated message, or throws Postmark's error (spec §2.4) for the caller to answer at once.</summary>
    public async Task<Rendered> RenderForSendAsync(int serverId, TemplatedEmailRequest r, CancellationToken ct)
    {
        if (r.Subject is not null || r.HtmlBody is not null || r.TextBody is not null)
            throw new MailroomException(PostmarkErrors.TemplateFieldNotAllowed, "'Subject', 'HtmlBody' and 'TextBody' come from the template: do not send them with 'TemplateId' or 'TemplateAlias'.");
        // TemplateId wins when both are given (spec §2.4).
        string key;
        if (r.TemplateId is { } id)
            key = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        else if (!string.IsNullOrWhiteSpace(r.TemplateAlias))
            key = r.TemplateAlias.Trim();
        else
            throw new MailroomException(PostmarkErrors.TemplateNotFound, "Give the template to send with: 'TemplateId' or 'TemplateAlias'.");
        if (r.TemplateModel is not { } model || model.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            throw new MailroomException(PostmarkErrors.NoTemplateData, "The 'TemplateModel' is required: an object whose fields the template uses.");
        if (model.ValueKind != JsonValueKind.Object)
            throw new MailroomException(PostmarkErrors.InvalidTemplateField, "The 'TemplateModel' must be a JSON object.");

        var p = await PrepareAsync(serverId, key, ct);
        var inlineCss = r.InlineCss ?? true;
        try
        {
            var subject = p.Subject is null ? null : TemplateRenderer.Render(p.Subject, model, TemplateOutput.Text);
            var html = p.Html is null ? null : TemplateRenderer.Render(p.Html, model, TemplateOutput.Html, p.LayoutHtml);
            var text = p.Text is null ? null : TemplateRenderer.Render(p.Text, model, TemplateOutput.Text, p.LayoutText);
            if (html is not null && inlineCss)
                html = CssInliner.Inline(html);
            // A subject is one header line: a model value with a line break must not start a new header.
            subject = subject?.ReplaceLineEndings(" ");
            return new Rendered(subject, html, text, p.Template.Id, p.Template.Version);
        }
        catch (TemplateRenderException e)
        {
            throw new MailroomException(PostmarkErrors.InvalidTemplateField, $"The template could not be rendered with this 'TemplateModel': {e.Message}");
        }
    }

    /// <summary>Records which template and version each accepted message was rendered from.</summary>
    public async Task RecordSendsAsync(int serverId, IReadOnlyList<(Guid MessageId, Rendered Content)> sent, CancellationToken ct)
    {
        if (sent.Count == 0)
            return;
        // One statement per row on the queue's plain-SQL path: EF's change tracking would cost more than the insert.
        await using var rows = await RowStatements.BeginAsync(db, ct);
        await rows.ExecuteEachAsync(InsertSend, sent, (s, r) => r
            .Guid("MessageId", s.MessageId).Add("ServerId", serverId).Add("TemplateId", s.Content.TemplateId)
            .Add("TemplateVersion", s.Content.Version), ct);
        await rows.CommitAsync(ct);
    }

    private const string InsertSend =
        "INSERT INTO template_sends (\"MessageId\", \"ServerId\", \"TemplateId\", \"TemplateVersion\") VALUES (@MessageId, @ServerId, @TemplateId, @TemplateVersion)";

    private async Task<Prepared> PrepareAsync(int serverId, string idOrAlias, CancellationToken ct)
    {
        if (_prepared.TryGetValue(idOrAlias, out var cached))
            return cached;
        Template t;
        try
        {
            t = await templates.FindAsync(serverId, idOrAlias, tracking: false, ct);
        }
        catch (MailroomException e) when (e.ErrorCode == PostmarkErrors.TemplateNotFound)
        {
            throw MailroomException.NotFound(PostmarkErrors.TemplateNotFound, $"The template '{idOrAlias}' was not found on this server.");
        }
        if (t.Type == TemplateType.Layout)
            throw new MailroomException(PostmarkErrors.TemplateFieldNotAllowed, $"'{idOrAlias}' is a layout: send with a Standard template that uses it.");
        Template? layout = null;
        if (t.LayoutAlias is not null)
        {
            var normalized = t.LayoutAlias.ToLowerInvariant();
            layout = await db.Templates.AsNoTracking().FirstOrDefaultAsync(x => x.ServerId == serverId && x.NormalizedAlias == normalized, ct)
                ?? throw new MailroomException(PostmarkErrors.TemplateNotFound, $"The layout '{t.LayoutAlias}' of template '{idOrAlias}' was not found.");
        }
        try
        {
            var p = new Prepared(t,
                t.Subject is null ? null : TemplateParser.Parse(t.Subject),
                t.HtmlBody is null ? null : TemplateParser.Parse(t.HtmlBody),
                t.TextBody is null ? null : TemplateParser.Parse(t.TextBody),
                layout?.HtmlBody is null ? null : TemplateParser.Parse(layout.HtmlBody, allowContent: true),
                layout?.TextBody is null ? null : TemplateParser.Parse(layout.TextBody, allowContent: true));
            _prepared[idOrAlias] = p;
            return p;
        }
        catch (TemplateSyntaxException e)
        {
            // Stored templates are checked on save; this guards rows written by older versions or by hand.
            throw new MailroomException(PostmarkErrors.InvalidTemplateField, $"The template '{idOrAlias}' is invalid: {e.Message}");
        }
    }

    // ---- Validate ----

    /// <summary><c>POST /templates/validate</c>: parses and renders each part given, and infers the model.</summary>
    public async Task<TemplateValidationResponse> ValidateAsync(int serverId, TemplateValidationRequest r, CancellationToken ct)
    {
        var type = r.TemplateType?.ToLowerInvariant() switch
        {
            null or "standard" => TemplateType.Standard,
            "layout" => TemplateType.Layout,
            _ => throw new MailroomException(PostmarkErrors.InvalidTemplateField, $"Invalid 'TemplateType': '{r.TemplateType}'. Use 'Standard' or 'Layout'."),
        };
        if (r.Subject is null && r.HtmlBody is null && r.TextBody is null)
            throw new MailroomException(PostmarkErrors.NoTemplateData, "Give at least one of 'Subject', 'HtmlBody' and 'TextBody' to validate.");
        if (type == TemplateType.Layout && r.Subject is not null)
            throw new MailroomException(PostmarkErrors.TemplateFieldNotAllowed, "A layout has no 'Subject'.");
        if (r.TestRenderModel is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined) })
            throw new MailroomException(PostmarkErrors.InvalidTemplateField, "The 'TestRenderModel' must be a JSON object.");

        ParsedTemplate? layoutHtml = null, layoutText = null;
        if (!string.IsNullOrWhiteSpace(r.LayoutTemplate) && type == TemplateType.Standard)
        {
            var normalized = r.LayoutTemplate.Trim().ToLowerInvariant();
            var layout = await db.Templates.AsNoTracking().FirstOrDefaultAsync(x => x.ServerId == serverId && x.NormalizedAlias == normalized && x.Type == TemplateType.Layout, ct)
                ?? throw MailroomException.NotFound(PostmarkErrors.TemplateNotFound, $"The layout '{r.LayoutTemplate}' was not found.");
            layoutHtml = layout.HtmlBody is null ? null : TemplateParser.TryParse(layout.HtmlBody, true, out _);
            layoutText = layout.TextBody is null ? null : TemplateParser.TryParse(layout.TextBody, true, out _);
        }

        var isLayout = type == TemplateType.Layout;
        var (subject, subjectErrors) = Parse(r.Subject, false, false);
        var (html, htmlErrors) = Parse(r.HtmlBody, isLayout, isLayout);
        var (text, textErrors) = Parse(r.TextBody, isLayout, isLayout);
        var suggested = TemplateModelInference.Infer(subject, html, text, layoutHtml, layoutText);
        // Without a test model the suggested one is used, so a template always renders something to look at.
        var model = r.TestRenderModel is { ValueKind: JsonValueKind.Object } given
            ? given
            : JsonSerializer.SerializeToElement(suggested);

        var subjectPart = Part(r.Subject, subject, subjectErrors, p => TemplateRenderer.Render(p, model, TemplateOutput.Text));
        var htmlPart = Part(r.HtmlBody, html, htmlErrors, p =>
        {
            var rendered = TemplateRenderer.Render(p, model, TemplateOutput.Html, layoutHtml);
            return r.InlineCssForHtmlTestRender ?? true ? CssInliner.Inline(rendered) : rendered;
        });
        var textPart = Part(r.TextBody, text, textErrors, p => TemplateRenderer.Render(p, model, TemplateOutput.Text, layoutText));
        return new TemplateValidationResponse(
            subjectPart.ContentIsValid && htmlPart.ContentIsValid && textPart.ContentIsValid,
            htmlPart, textPart, subjectPart, suggested);
    }

    private static (ParsedTemplate?, List<TemplateValidationError>) Parse(string? source, bool allowContent, bool isLayout)
    {
        if (source is null)
            return (null, []);
        var parsed = TemplateParser.TryParse(source, allowContent, out var errors);
        var list = errors.Select(e => new TemplateValidationError(e.Message, e.Line, e.CharacterPosition)).ToList();
        if (parsed is not null && isLayout && parsed.ContentPlaceholders != 1)
        {
            list.Add(new TemplateValidationError("A layout must hold '{{{ @content }}}' exactly once.", 1, 1));
            return (null, list);
        }
        return (parsed, list);
    }

    private static TemplatePartValidation Part(string? source, ParsedTemplate? parsed, List<TemplateValidationError> errors, Func<ParsedTemplate, string> render)
    {
        if (source is null)
            return new TemplatePartValidation(true, [], null);
        if (parsed is null)
            return new TemplatePartValidation(false, errors, null);
        try
        {
            return new TemplatePartValidation(true, [], render(parsed));
        }
        catch (TemplateRenderException e)
        {
            return new TemplatePartValidation(false, [new TemplateValidationError(e.Message, 0, 0)], null);
        }
    }
}
