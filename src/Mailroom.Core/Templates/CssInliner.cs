namespace Mailroom.Core.Templates;

/// <summary>
/// Moves the CSS of <c>&lt;style&gt;</c> blocks into <c>style</c> attributes (PreMailer.Net), as Postmark does for
/// templated HTML, since many mail clients drop style blocks. The blocks stay, for clients that use their media
/// queries. HTML without a style block is returned as it is (PreMailer would otherwise re-serialize the document).
/// </summary>
public static class CssInliner
{
    public static string Inline(string html)
    {
        if (!html.Contains("<style", StringComparison.OrdinalIgnoreCase))
            return html;
        try
        {
            return PreMailer.Net.PreMailer.MoveCssInline(html, removeStyleElements: false, stripIdAndClassAttributes: false).Html;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // CSS PreMailer cannot read leaves the HTML as written rather than failing the message.
            return html;
        }
    }
}
