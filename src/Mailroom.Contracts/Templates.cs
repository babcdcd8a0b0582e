using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mailroom.Contracts;

/// <summary>Body of <c>POST /templates</c> and <c>PUT /templates/{idOrAlias}</c> (spec §11). On PUT an absent
/// (null) field keeps its value; <c>LayoutTemplate: ""</c> clears the layout.</summary>
public sealed record TemplateRequest
{
    public string? Name { get; init; }
    public string? Subject { get; init; }
    public string? HtmlBody { get; init; }
    public string? TextBody { get; init; }
    public string? Alias { get; init; }
    public string? TemplateType { get; init; }
    public string? LayoutTemplate { get; init; }
}

/// <summary>A template in full (<c>GET /templates/{idOrAlias}</c>). <c>Version</c> is Mailroom's addition.</summary>
public sealed record TemplateResponse
{
    public int TemplateId { get; init; }
    public string Name { get; init; } = "";
    public string? Alias { get; init; }
    public string? Subject { get; init; }
    public string? HtmlBody { get; init; }
    public string? TextBody { get; init; }
    public int AssociatedServerId { get; init; }
    public bool Active { get; init; }
    public string TemplateType { get; init; } = "Standard";
    public string? LayoutTemplate { get; init; }
    public int Version { get; init; }
}

/// <summary>The answer to create and edit.</summary>
public sealed record TemplateSaved(int TemplateId, string Name, bool Active, string? Alias, string TemplateType, string? LayoutTemplate);

/// <summary>One row of <c>GET /templates</c>.</summary>
public sealed record TemplateSummary(bool Active, int TemplateId, string Name, string? Alias, string TemplateType, string? LayoutTemplate);

public sealed record TemplateList(int TotalCount, IReadOnlyList<TemplateSummary> Templates);

/// <summary>Body of <c>POST /templates/validate</c>.</summary>
public sealed record TemplateValidationRequest
{
    public string? Subject { get; init; }
    public string? HtmlBody { get; init; }
    public string? TextBody { get; init; }
    public JsonElement? TestRenderModel { get; init; }
    public bool? InlineCssForHtmlTestRender { get; init; }
    public string? TemplateType { get; init; }
    public string? LayoutTemplate { get; init; }
}

public sealed record TemplateValidationError(string Message, int Line, int CharacterPosition);

/// <summary>The validation of one part; a part not given is valid and renders as null.</summary>
public sealed record TemplatePartValidation(bool ContentIsValid, IReadOnlyList<TemplateValidationError> ValidationErrors, string? RenderedContent);

public sealed record TemplateValidationResponse(
    bool AllContentIsValid,
    TemplatePartValidation HtmlBody,
    TemplatePartValidation TextBody,
    TemplatePartValidation Subject,
    JsonObject SuggestedTemplateModel);

/// <summary>Body of <c>PUT /templates/push</c> (account token).</summary>
public sealed record TemplatePushRequest
{
    public int? SourceServerID { get; init; }
    public int? DestinationServerID { get; init; }
    public bool? PerformChanges { get; init; }
}

public sealed record TemplatePushItem(string Action, int? TemplateId, string? Alias, string Name, string TemplateType);

public sealed record TemplatePushResponse(int TotalCount, IReadOnlyList<TemplatePushItem> Templates);

/// <summary>A stored version of a template (Mailroom's extension: every edit keeps the one before).</summary>
public sealed record TemplateVersionResponse(
    int Version, string Name, string? Alias, string? Subject, string? HtmlBody, string? TextBody, string? LayoutTemplate, DateTimeOffset CreatedAt);

public sealed record TemplateVersionList(int TotalCount, IReadOnlyList<TemplateVersionResponse> Versions);

/// <summary>A message of <c>POST /email/withTemplate</c> and of <c>/email/batchWithTemplates</c> (spec §2.4): a message
/// whose content comes from the template. <c>Subject</c>, <c>HtmlBody</c> and <c>TextBody</c> given here are refused
/// (1123); rendering fills them in.</summary>
public sealed record TemplatedEmailRequest : EmailRequest
{
    public int? TemplateId { get; init; }
    public string? TemplateAlias { get; init; }
    public JsonElement? TemplateModel { get; init; }
    public bool? InlineCss { get; init; }
}

public sealed record TemplatedBatchRequest
{
    public IReadOnlyList<TemplatedEmailRequest?>? Messages { get; init; }
}
