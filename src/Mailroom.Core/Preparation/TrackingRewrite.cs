using Mailroom.Core.Tracking;
using Mailroom.Mail.Tracking;
using MimeKit;

namespace Mailroom.Core.Preparation;

/// <summary>
/// Step Track of Preparation: puts one recipient's tracking into a parsed message before it is signed. With
/// <c>TrackOpens</c> a 1×1 image goes at the end of the HTML part (a text-only message gets none: no image can load
/// in it); with <c>TrackLinks</c> the links of the HTML parts (HtmlOnly, HtmlAndText) and of the plain-text parts
/// (TextOnly, HtmlAndText) become click URLs. Attachments are never touched. Pure apart from the signer it is given.
/// </summary>
internal static class TrackingRewrite
{
    public static bool Wanted(bool trackOpens, string trackLinks) => trackOpens || (trackLinks is not ("" or "None"));

    /// <summary>Rewrites <paramref name="message"/> for recipient <paramref name="recipientIndex"/>; returns how many
    /// tracking URLs went in (0: tracking changes nothing in this message).</summary>
    public static int Apply(MimeMessage message, Guid messageId, int recipientIndex, bool trackOpens, string trackLinks,
        TrackingTokenSigner signer, TrackingOptions options, LinkTable links)
    {
        var html = trackLinks is "HtmlAndText" or "HtmlOnly";
        var text = trackLinks is "HtmlAndText" or "TextOnly";
        var inserted = 0;
        var pixelDone = false;
        foreach (var part in message.BodyParts.OfType<TextPart>().Where(p => !p.IsAttachment).ToList())
        {
            if (part.IsHtml && (html || (trackOpens && !pixelDone)))
            {
                string? pixel = null;
                if (trackOpens && !pixelDone)
                {
                    // One image per message, in the first HTML part (the one a multipart/alternative reader shows).
                    pixel = options.PixelUrl(signer.Open(messageId, recipientIndex));
                    pixelDone = true;
                    inserted++;
                }
                Func<string, string?>? track = html
                    ? url => { inserted++; return options.ClickUrl(signer.Click(messageId, recipientIndex, links.IndexOf(url, LinkLocation.HTML))); }
                    : null;
                part.Text = LinkRewriter.RewriteHtml(part.Text, track, pixel);
            }
            else if (part.IsPlain && text)
            {
                var count = 0;
                var rewritten = LinkRewriter.RewriteText(part.Text, url =>
                {
                    count++;
                    return options.ClickUrl(signer.Click(messageId, recipientIndex, links.IndexOf(url, LinkLocation.Text)));
                });
                if (count > 0)
                {
                    part.Text = rewritten;
                    inserted += count;
                }
            }
        }
        return inserted;
    }
}
