namespace Mailroom.Core.Identities;

/// <summary>
/// The DKIM key record (RFC 6376 §3.6.1): a tag list such as <c>v=DKIM1; k=rsa; p=MIIBIj...</c> published as TXT at
/// <c>&lt;selector&gt;._domainkey.&lt;domain&gt;</c> (§3.6.2.1). Reads what people actually publish: tags in any order,
/// spaces or none around <c>;</c> and <c>=</c>, whitespace inside the base64 (§3.6.1 allows it), quotes pasted
/// from zone-file syntax, extra tags (<c>h=sha256</c>, <c>t=s</c>, <c>n=...</c>).
/// </summary>
public static class DkimTxtRecord
{
    /// <summary>The value we ask customers to publish (the shape of Postmark's <c>DKIMTextValue</c>).</summary>
    public static string Format(string publicKey) => "k=rsa; p=" + publicKey;

    /// <summary>True when <paramref name="txt"/> is an RSA key record whose <c>p=</c> is <paramref name="publicKey"/>.
    /// Otherwise <paramref name="problem"/> says why not.</summary>
    public static bool Matches(string txt, string publicKey, out string problem)
    {
        var tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in txt.Replace("\"", "").Split(';'))
        {
            if (string.IsNullOrWhiteSpace(part))
                continue; // a trailing ';' is allowed (§3.2)
            var eq = part.IndexOf('=');
            if (eq <= 0)
            {
                problem = $"'{part.Trim()}' is not a tag=value pair.";
                return false;
            }
            var name = part[..eq].Trim();
            if (!tags.TryAdd(name, part[(eq + 1)..].Trim()))
            {
                problem = $"the tag '{name}' appears twice (RFC 6376 §3.2 forbids it).";
                return false;
            }
        }
        if (tags.TryGetValue("v", out var v) && !v.Equals("DKIM1", StringComparison.Ordinal))
        {
            problem = $"v={v} is not a DKIM1 key record.";
            return false;
        }
        if (tags.TryGetValue("k", out var k) && !k.Equals("rsa", StringComparison.OrdinalIgnoreCase))
        {
            problem = $"k={k}: the key must be RSA.";
            return false;
        }
        if (!tags.TryGetValue("p", out var p))
        {
            problem = "the record has no p= tag.";
            return false;
        }
        var published = string.Concat(p.Where(c => !char.IsWhiteSpace(c)));
        if (published.Length == 0)
        {
            problem = "p= is empty: the record revokes the key (RFC 6376 §3.6.1).";
            return false;
        }
        if (!published.Equals(publicKey, StringComparison.Ordinal))
        {
            problem = "p= holds a different public key.";
            return false;
        }
        problem = "";
        return true;
    }
}
