using System.Globalization;
using System.Text.Json;
using Mailroom.Core.Templates;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

/// <summary>
/// The template editor: create, edit and delete through <see cref="TemplateService"/>, and a preview rendered by
/// <see cref="TemplateRendering.ValidateAsync"/> (the engine of <c>POST /templates/validate</c>) with the test model.
/// Without script the Preview button posts the form and the page comes back with the result; with script
/// (<c>wwwroot/templates.js</c>) the Render handler answers JSON as the draft changes. Either way the HTML is loaded
/// into a sandboxed iframe from the PreviewHtml handler, never written into the app's own page.
/// </summary>
public sealed class TemplateModel(TemplateService templates, TemplateRendering rendering, TemplatePreviews previews) : ServerPageModel
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A template ID, or "new".</summary>
    [BindProperty(SupportsGet = true)] public string TemplateId { get; set; } = "";
    [BindProperty(SupportsGet = true)] public string? Type { get; set; }
    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Alias { get; set; }
    [BindProperty] public string? Subject { get; set; }
    [BindProperty] public string? HtmlBody { get; set; }
    [BindProperty] public string? TextBody { get; set; }
    [BindProperty] public string? LayoutTemplate { get; set; }
    [BindProperty] public string? TestModel { get; set; }

    public bool IsNew => TemplateId == "new";
    public bool IsLayout => Type == "Layout";
    public int Version { get; private set; }
    public List<string> Layouts { get; private set; } = [];
    public string? Error { get; private set; }
    public string PreviewState { get; private set; } = "";
    public string? PreviewSubject { get; private set; }
    public string? PreviewText { get; private set; }
    public string? PreviewHtmlUrl { get; private set; }
    public List<string> PreviewErrors { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if (await LoadAsync(write: false) is { } missing)
            return missing;
        if (IsNew)
        {
            HtmlBody = IsLayout
                ? "<html>\n<body>\n  {{{ @content }}}\n</body>\n</html>"
                : "<h1>Hello {{name}}</h1>\n<p>Welcome to {{product_name}}.</p>";
            if (!IsLayout)
            {
                Subject = "Welcome, {{name}}";
                TextBody = "Hello {{name}}, welcome to {{product_name}}.";
            }
        }
        else
        {
            var t = await templates.GetAsync(Id, TemplateId, HttpContext.RequestAborted);
            (Name, Alias, Subject, HtmlBody, TextBody, LayoutTemplate, Version) = (t.Name, t.Alias, t.Subject, t.HtmlBody, t.TextBody, t.LayoutTemplate, t.Version);
        }
        await PreviewAsync(fillModel: true);
        return Page();
    }

    /// <summary>Without script: the page again, the draft as typed, and its rendering.</summary>
    public async Task<IActionResult> OnPostPreviewAsync()
    {
        if (await LoadAsync(write: false) is { } missing)
            return missing;
        await PreviewAsync(fillModel: false);
        return Page();
    }

    /// <summary>With script: the rendering as JSON (subject, text, errors, and where the iframe loads the HTML from).</summary>
    public async Task<IActionResult> OnPostRenderAsync()
    {
        if (await LoadAsync(write: false) is { } missing)
            return missing;
        await PreviewAsync(fillModel: false);
        return new JsonResult(new
        {
            state = PreviewState,
            subject = PreviewSubject,
            text = PreviewText,
            htmlUrl = PreviewHtmlUrl,
            errors = PreviewErrors,
        });
    }

    /// <summary>The rendered HTML of a draft, for the preview iframe only: a sandboxed document with a unique origin (no
    /// script, no forms, no access to the app), no network but inline images, as a message's HTML.</summary>
    public async Task<IActionResult> OnGetPreviewHtmlAsync(string? key)
    {
        if (!await LoadServerAsync() || await previews.FindAsync(key, UserId, Id, HttpContext.RequestAborted) is not { } html)
            return NotFoundPage();
        return MessageView.SandboxedHtml(Response, html);
    }

    public async Task<IActionResult> OnPostSaveAsync()
    {
        if (await LoadAsync(write: true) is { } missing)
            return missing;
        var request = new TemplateRequest
        {
            Name = Name ?? "",
            Alias = Alias ?? "",
            Subject = IsLayout ? null : Subject ?? "",
            HtmlBody = HtmlBody ?? "",
            TextBody = TextBody ?? "",
            LayoutTemplate = IsLayout ? null : LayoutTemplate ?? "",
            TemplateType = IsNew ? Type : null,
        };
        try
        {
            var saved = IsNew
                ? await templates.CreateAsync(Id, request, HttpContext.RequestAborted)
                : await templates.EditAsync(Id, TemplateId, request, HttpContext.RequestAborted);
            Flash = $"Template '{saved.Name}' saved.";
            return LocalRedirect($"/app/servers/{Id}/templates/{saved.TemplateId}");
        }
        catch (MailroomException e)
        {
            Error = e.Message;
            Response.StatusCode = 422;
            await PreviewAsync(fillModel: false);
            return Page();
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync()
    {
        if (IsNew || await LoadAsync(write: true) is { } missing)
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            await templates.DeleteAsync(Id, TemplateId, HttpContext.RequestAborted);
            return $"Template {TemplateId} deleted.";
        }, $"/app/servers/{Id}/templates");
    }

    /// <summary>The server (404 when not this user's), the template's type, and the layouts to choose from.</summary>
    private async Task<IActionResult?> LoadAsync(bool write)
    {
        if (!await LoadServerAsync(write))
            return NotFoundPage();
        var ct = HttpContext.RequestAborted;
        if (IsNew)
        {
            if (!CanWrite)
                return NotFoundPage();
            Type = Type == "Layout" ? "Layout" : "Standard";
        }
        else
        {
            // Only numeric IDs in the app's URLs; both filter by this server, so another server's ID is a 404.
            if (!int.TryParse(TemplateId, NumberStyles.None, CultureInfo.InvariantCulture, out var templateId))
                return NotFoundPage();
            var type = await Db.Templates.AsNoTracking().Where(t => t.ServerId == Id && t.Id == templateId).Select(t => (TemplateType?)t.Type).FirstOrDefaultAsync(ct);
            if (type is null)
                return NotFoundPage();
            Type = type.ToString();
        }
        Layouts = await Db.Templates.AsNoTracking().Where(t => t.ServerId == Id && t.Type == TemplateType.Layout && t.Alias != null)
            .OrderBy(t => t.Alias).Select(t => t.Alias!).Take(TemplateService.MaxTemplatesPerServer).ToListAsync(ct);
        return null;
    }

    /// <summary>Renders the draft with the test model (or, with none, the model the engine suggests, which then fills
    /// the test model box when <paramref name="fillModel"/>).</summary>
    private async Task PreviewAsync(bool fillModel)
    {
        JsonElement? model = null;
        if (!string.IsNullOrWhiteSpace(TestModel))
        {
            try
            {
                model = JsonDocument.Parse(TestModel).RootElement.Clone();
            }
            catch (JsonException e)
            {
                PreviewState = "not rendered";
                PreviewErrors.Add($"Test model: not valid JSON ({e.Message})");
                return;
            }
        }
        TemplateValidationResponse result;
        try
        {
            result = await rendering.ValidateAsync(Id, new TemplateValidationRequest
            {
                Subject = IsLayout || string.IsNullOrEmpty(Subject) ? null : Subject,
                HtmlBody = string.IsNullOrEmpty(HtmlBody) ? null : HtmlBody,
                TextBody = string.IsNullOrEmpty(TextBody) ? null : TextBody,
                TestRenderModel = model,
                TemplateType = Type,
                LayoutTemplate = IsLayout || string.IsNullOrWhiteSpace(LayoutTemplate) ? null : LayoutTemplate,
                InlineCssForHtmlTestRender = true,
            }, HttpContext.RequestAborted);
        }
        catch (MailroomException e)
        {
            PreviewState = "not rendered";
            PreviewErrors.Add(e.Message);
            return;
        }
        foreach (var (part, v) in new[] { ("Subject", result.Subject), ("HTML body", result.HtmlBody), ("Text body", result.TextBody) })
            foreach (var e in v.ValidationErrors)
                PreviewErrors.Add(e.Line > 0 ? $"{part}, line {e.Line}, column {e.CharacterPosition}: {e.Message}" : $"{part}: {e.Message}");
        PreviewState = result.AllContentIsValid ? "rendered with the test model" : "the draft has errors";
        PreviewSubject = result.Subject.RenderedContent;
        PreviewText = result.TextBody.RenderedContent;
        if (result.HtmlBody.RenderedContent is { } html)
        {
            var key = await previews.AddAsync(UserId, Id, html, HttpContext.RequestAborted);
            PreviewHtmlUrl = $"/app/servers/{Id}/templates/{TemplateId}?handler=PreviewHtml&key={key}";
        }
        if (fillModel && string.IsNullOrWhiteSpace(TestModel))
            TestModel = result.SuggestedTemplateModel.ToJsonString(Indented);
    }
}
