using System.Diagnostics;
using System.Globalization;
using System.Text;
using Mailroom.Mail.Composition;
using Mailroom.Mail.Dkim;
using MimeKit;

namespace Mailroom.Mail.Tests.Dkim;

/// <summary>
/// Signatures per second of <see cref="DkimSigning"/> (MimeKit canonicalization + .NET RSA) against MimeKit's
/// stock <see cref="MimeKit.Cryptography.DkimSigner"/> (BouncyCastle RSA) on 1 and 2 threads, ~5 KB message.
/// Explicit: it takes ~15 s and measures, it does not assert speed. Run in Release:
/// <c>dotnet build -c Release tests/Mailroom.Mail.Tests &amp;&amp; tests/Mailroom.Mail.Tests/bin/Release/net10.0/Mailroom.Mail.Tests -class Mailroom.Mail.Tests.Dkim.DkimSignerThroughput -explicit only -showliveoutput</c>
/// </summary>
public class DkimSignerThroughput
{
    static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    [Fact(Explicit = true)]
    public void Signatures_per_second()
    {
        var wire = SampleMessage();
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"message: {wire.Length} bytes, key: RSA-{Samples.Key.KeySizeBits}, {Environment.ProcessorCount} cores, {Duration.TotalSeconds:0} s per run");

        foreach (var threads in new[] { 1, 2 })
        {
            var stock = Rate(wire, threads, () =>
            {
                var signer = new DkimSigningTests.FixedTimeStockSigner(Samples.Key.PrivateKeyPem, Samples.Domain, Samples.Selector, Samples.SigningTime);
                return message =>
                {
                    message.Prepare(EncodingConstraint.SevenBit);
                    signer.Sign(message, DkimSigning.HeadersToSign(message));
                };
            });
            var ours = Rate(wire, threads, () => message => DkimSigning.Sign(message, Samples.DkimKey, Samples.SigningTime));
            var rsaOnly = Rate(wire, threads, () =>
            {
                var rsa = System.Security.Cryptography.RSA.Create();
                rsa.ImportFromPem(Samples.Key.PrivateKeyPem);
                var digest = new byte[32];
                return _ => rsa.SignHash(digest, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            }, signsMessage: false);
            report.AppendLine(CultureInfo.InvariantCulture,
                $"{threads} thread(s): MimeKit DkimSigner {stock,8:N0}/s   DkimSigning (.NET RSA) {ours,8:N0}/s   x{ours / stock:0.0}   (bare RSA SignHash {rsaOnly,8:N0}/s)");
        }

        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        Console.WriteLine(report.ToString());
    }

    /// <summary>Text + HTML, about 5 KB on the wire.</summary>
    static byte[] SampleMessage()
    {
        var paragraph = "Thank you for your order. Your items will ship within two business days; we will send tracking details as soon as the carrier picks them up. ";
        var text = string.Concat(Enumerable.Repeat(paragraph + "\n", 14));
        var html = "<html><body>" + string.Concat(Enumerable.Repeat("<p>" + paragraph + "</p>\n", 12)) + "</body></html>";
        var message = Samples.Composer.Compose(Samples.Rich() with { TextBody = text, HtmlBody = html, Attachments = [] });
        return WireFormat.ToBytes(message);
    }

    /// <summary>Signs copies of <paramref name="wire"/> on <paramref name="threads"/> threads for <see cref="Duration"/>; signatures per second.</summary>
    static double Rate(byte[] wire, int threads, Func<Action<MimeMessage>> createSigner, bool signsMessage = true)
    {
        var counts = new long[threads];
        var ready = new Barrier(threads + 1);
        var stop = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var sign = createSigner();
            var message = Samples.Load(wire);
            for (var i = 0; i < 50; i++) // warm-up
            {
                sign(message);
                if (signsMessage)
                    message.Headers.RemoveAt(0);
            }
            ready.SignalAndWait();
            long n = 0;
            while (Volatile.Read(ref stop) == 0)
            {
                sign(message);
                if (signsMessage)
                    message.Headers.RemoveAt(0); // drop the DKIM-Signature so the next round signs the same message
                n++;
            }
            counts[t] = n;
        })).ToArray();

        foreach (var worker in workers)
            worker.Start();
        ready.SignalAndWait();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(Duration);
        Volatile.Write(ref stop, 1);
        foreach (var worker in workers)
            worker.Join();
        return counts.Sum() / clock.Elapsed.TotalSeconds;
    }
}

