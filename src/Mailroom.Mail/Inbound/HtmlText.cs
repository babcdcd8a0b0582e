using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Mailroom.Mail.Inbound;

/// <summary>
/// Plain text from an HTML body, for mail that carries only HTML: parsed by AngleSharp's HTML5 parser (never regular
/// expressions over markup), blocks and <c>br</c> become line breaks, list items get "- ", links keep their target
/// when it differs from their text, images their alt text; head, style and script are dropped; runs of white space
/// collapse as a browser renders them.
/// </summary>
public static class HtmlText
{
    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "blockquote", "pre", "table", "tr",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address", "dl", "dt", "dd", "form", "fieldset", "center",
    };

    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "head", "style", "script", "noscript", "template", "title",
    };

    public static string FromHtml(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        var sb = new StringBuilder();
        if (document.Body is { } body)
            Walk(body, sb, pre: false);
        // Lines trimmed at their end, at most one blank line in a row, none at the ends.
        var lines = sb.ToString().Split('\n').Select(l => l.TrimEnd()).ToList();
        var result = new StringBuilder();
        var blank = 0;
        foreach (var line in lines)
        {
            if (line.Length == 0)
            {
                blank++;
                continue;
            }
            if (result.Length > 0)
                result.Append(blank > 0 ? "\n\n" : "\n");
            blank = 0;
            result.Append(line.TrimStart(' '));
        }
        return result.ToString();
    }

    private static void Walk(INode node, StringBuilder sb, bool pre)
    {
        foreach (var child in node.ChildNodes)
        {
            switch (child)
            {
                case IText t:
                    AppendText(sb, t.Data, pre);
                    break;
                case IElement e when Skipped.Contains(e.LocalName):
                    break;
                case IElement e when e.LocalName == "br":
                    sb.Append('\n');
                    break;
                case IElement e when e.LocalName == "img":
                    if (e.GetAttribute("alt") is { Length: > 0 } alt)
                        AppendText(sb, alt, pre);
                    break;
                case IElement e when e.LocalName == "a":
                {
                    var start = sb.Length;
                    Walk(e, sb, pre);
                    var label = sb.ToString(start, sb.Length - start).Trim();
                    var href = e.GetAttribute("href")?.Trim();
                    if (href is { Length: > 0 } && !href.StartsWith('#') && !string.Equals(label, href, StringComparison.OrdinalIgnoreCase)
                        && !string.Equals("mailto:" + label, href, StringComparison.OrdinalIgnoreCase))
                        sb.Append(" (").Append(href).Append(')');
                    break;
                }
                case IElement e when Blocks.Contains(e.LocalName):
                {
                    var paragraph = e.LocalName is "p" or "h1" or "h2" or "h3" or "h4" or "h5" or "h6" or "blockquote" or "table" or "ul" or "ol";
                    LineBreak(sb, paragraph);
                    if (e.LocalName == "li")
                        sb.Append("- ");
                    if (e.LocalName == "hr")
                        sb.Append("----");
                    Walk(e, sb, pre || e.LocalName == "pre");
                    LineBreak(sb, paragraph);
                    break;
                }
                case IElement e when e.LocalName is "td" or "th":
                    if (sb.Length > 0 && sb[^1] is not '\n' and not ' ' and not '\t')
                        sb.Append('\t');
                    Walk(e, sb, pre);
                    break;
                case IElement e:
                    Walk(e, sb, pre);
                    break;
            }
        }
    }

    /// <summary>Ends the current line (a block starts or ends), with a blank line after it for a paragraph-like block.</summary>
    private static void LineBreak(StringBuilder sb, bool paragraph)
    {
        if (sb.Length == 0)
            return;
        while (sb.Length > 0 && sb[^1] == ' ')
            sb.Length--;
        if (sb.Length > 0 && sb[^1] != '\n')
            sb.Append('\n');
        if (paragraph && (sb.Length < 2 || sb[^2] != '\n'))
            sb.Append('\n');
    }

    private static void AppendText(StringBuilder sb, string text, bool pre)
    {
        if (pre)
        {
            sb.Append(text);
            return;
        }
        foreach (var c in text)
        {
            var ws = c is ' ' or '\t' or '\r' or '\n' or '\f';
            if (ws)
            {
                if (sb.Length > 0 && sb[^1] is not ' ' and not '\n' and not '\t')
                    sb.Append(' ');
            }
            else
                sb.Append(c == '\u00A0' ? ' ' : c);
        }
    }
}
