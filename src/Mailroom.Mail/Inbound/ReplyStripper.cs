using System.Text.RegularExpressions;

namespace Mailroom.Mail.Inbound;

/// <summary>
/// <c>StrippedTextReply</c>: the new text of a reply without the history its client quoted below it. The reply ends
/// where a client's attribution or header block begins:
/// <list type="bullet">
/// <item>Gmail, Apple Mail and Thunderbird write one attribution line ("On … wrote:", wrapped over two lines when long)
/// in the sender's language: "Am … schrieb …:", "Le … a écrit :", "El … escribió:", "Op … schreef …:",
/// "Il … ha scritto:", "Em … escreveu:", "Den … skrev …:", "… napisał(a):", "… написал(а):".</item>
/// <item>Outlook writes a separator ("-----Original Message-----" and its translations, or a line of underscores) or a
/// header block: a "From:" line followed within a few lines by "Sent:"/"Date:" (Von:/Gesendet:, De :/Envoyé :, …).</item>
/// <item>Thunderbird's forward/quote separator "-------- Original Message --------" (and translations).</item>
/// </list>
/// Quoted lines ("&gt;", RFC 3676 §4.5) at the end are removed too, with the blank lines around the cut.
/// </summary>
public static class ReplyStripper
{
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;

    private static readonly Regex[] Attributions =
    [
        new(@"^\s*On\s.{1,300}\swrote:\s*$", Options),                          // en: Gmail, Apple Mail, Thunderbird
        new(@"^\s*Am\s.{1,300}\sschrieb\b.{0,300}:\s*$", Options),              // de
        new(@"^\s*Le\s.{1,300}\sa\s+écrit\s*:\s*$", Options),                   // fr
        new(@"^\s*El\s.{1,300}\sescribió\s*:\s*$", Options),                    // es
        new(@"^\s*Op\s.{1,300}\sschreef\b.{0,300}:\s*$", Options),              // nl
        new(@"^\s*Il\s.{1,300}\sha\s+scritto\s*:\s*$", Options),                // it
        new(@"^\s*(Em|No dia)\s.{1,300}\sescreveu\s*:\s*$", Options),           // pt
        new(@"^\s*(Den|På)\s.{1,300}\sskrev\b.{0,300}:\s*$", Options),          // sv, da, no
        new(@"^.{1,300}\snapisał(\(a\)|a)?\s*:\s*$", Options),                  // pl
        new(@"^.{1,300}\sнаписал(\(а\)|а)?\s*:\s*$", Options),                  // ru
        new(@"^.{1,300}\s(yazdı|kirjoitti|írta)\s*:\s*$", Options),             // tr, fi, hu
    ];

    private static readonly Regex Separator = new(
        @"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Originalnachricht|Message d'origine|Mensaje original|Messaggio originale|" +
        @"Oorspronkelijk bericht|Mensagem original|Ursprungligt meddelande|Oryginalna wiadomość|Исходное сообщение|Forwarded message|" +
        @"Weitergeleitete Nachricht|Message transféré)\s*-{2,}|_{20,})\s*$", Options);

    private static readonly Regex HeaderFrom = new(@"^\s*\*?(From|Von|De|Da|Van|Från|Od|От|Fra|Lähettäjä)\s?:\*?\s*\S", Options);

    private static readonly Regex HeaderNext = new(
        @"^\s*\*?(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Fecha|Inviato|Data|Verzonden|Skickat|Wysłano|Отправлено|Sendt|Lähetetty|To|An|À|Para|A|Aan|Till|Do|Кому|Til|Vastaanottaja)\s?:", Options);

    public static string Strip(string text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var cut = lines.Length;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith('>'))
                continue;
            if (IsAttribution(line) || (i + 1 < lines.Length && !lines[i + 1].TrimStart().StartsWith('>') && IsAttribution(line + " " + lines[i + 1].Trim()))
                || Separator.IsMatch(line) || IsHeaderBlock(lines, i))
            {
                cut = i;
                break;
            }
        }
        // Quoted lines and blank lines at the end of what is left belong to the history (interleaved quotes above
        // the reply's own text are kept: they are part of the answer's context).
        var end = cut;
        while (end > 0 && (lines[end - 1].Trim().Length == 0 || lines[end - 1].TrimStart().StartsWith('>')))
            end--;
        return string.Join("\n", lines[..end]).Trim('\n').TrimEnd();
    }

    private static bool IsAttribution(string line) => line.Length <= 600 && Attributions.Any(r => r.IsMatch(line));

    private static bool IsHeaderBlock(string[] lines, int i)
    {
        if (!HeaderFrom.IsMatch(lines[i]))
            return false;
        for (var j = i + 1; j < Math.Min(lines.Length, i + 4); j++)
            if (HeaderNext.IsMatch(lines[j]))
                return true;
        return false;
    }
}
