namespace Mailroom.Core.Templates;

/// <summary>A server's template (spec §11): a Standard template or a Layout that Standard templates name by alias.</summary>
public sealed class Template
{
    public int Id { get; set; }
    public int ServerId { get; set; }
    public required string Name { get; set; }
    /// <summary>The alias as written (<c>[A-Za-z][A-Za-z0-9._-]*</c>); null when the template has none.</summary>
    public string? Alias { get; set; }
    /// <summary>Lower-case <see cref="Alias"/>: aliases are unique per server ignoring case, through an index.</summary>
    public string? NormalizedAlias { get; set; }
    public TemplateType Type { get; set; }
    public string? Subject { get; set; }
    public string? HtmlBody { get; set; }
    public string? TextBody { get; set; }
    /// <summary>Alias of the layout this Standard template renders inside; null for none.</summary>
    public string? LayoutAlias { get; set; }
    /// <summary>Number of the current version; every create, edit and restore adds one (<see cref="TemplateVersion"/>).</summary>
    public int Version { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>One saved state of a template: Mailroom keeps every version, so an edit can be undone.</summary>
public sealed class TemplateVersion
{
    public long Id { get; set; }
    public int TemplateId { get; set; }
    public int Version { get; set; }
    public required string Name { get; set; }
    public string? Alias { get; set; }
    public string? Subject { get; set; }
    public string? HtmlBody { get; set; }
    public string? TextBody { get; set; }
    public string? LayoutAlias { get; set; }
    public DateTime CreatedAt { get; set; }
}

// Persisted enum: explicit numbers.
public enum TemplateType { Standard = 0, Layout = 1 }

/// <summary>
/// Which template and version a sent message was rendered from (Mailroom's extension, shown in the message's
/// details). Kept beside the message rather than on it, so the queue's hot insert is unchanged.
/// </summary>
public sealed class TemplateSend
{
    public Guid MessageId { get; set; }
    public int ServerId { get; set; }
    public int TemplateId { get; set; }
    public int TemplateVersion { get; set; }
}

/// <summary>
/// A rendered template draft waiting for the web editor's preview iframe: written by the node that rendered it and read
/// by whichever node the iframe's request reaches (several nodes behind one load balancer share the store). Keyed by the
/// SHA-256 of a random key that only the editor's page holds; it belongs to one web user and one server and lives ten
/// minutes.
/// </summary>
public sealed class TemplatePreview
{
    public long Id { get; set; }
    public required string KeyHash { get; set; }
    public int WebUserId { get; set; }
    public int ServerId { get; set; }
    public required string Html { get; set; }
    public DateTime ExpiresAt { get; set; }
}
