using Mailroom.Mail.Bounces;
using MimeKit;

namespace Mailroom.Mail.Tests.Bounces;

public class DumpTmp
{
    [Fact]
    public void Dump()
    {
        if (Environment.GetEnvironmentVariable("MAILROOM_DUMP") is not { } path) return;
        using var w = new StreamWriter(path);
        foreach (var e in Corpus.Entries)
        {
            BounceReport r;
            using (var s = File.OpenRead(Corpus.PathOf(e))) r = BounceParser.Parse(s);
            w.WriteLine($"== {e.File} | exp reason={string.Join('|', e.Reasons)} rcpt={string.Join('|', e.Recipients)} st={string.Join('|', e.Statuses)} code={string.Join('|', e.SmtpCodes)} bounce={e.IsBounce}");
            w.WriteLine($"   kind={r.Kind} type={r.Type} fb={r.FeedbackType} rmta={r.ReportingMta} retTo={r.ReturnedTo} origId={r.Original?.MessageId} origSubj={r.Original?.Subject} origTo={string.Join(',', r.Original?.To ?? [])} fail={r.IsDeliveryFailure}");
            foreach (var x in r.Recipients)
                w.WriteLine($"   - {x.Email} act={x.Action} st={x.Status} code={x.SmtpCode} type={x.Type} sup={x.Suppress} rmta={x.RemoteMta} diag={x.Diagnostic?[..Math.Min(160, x.Diagnostic.Length)]}");
        }
    }
}
