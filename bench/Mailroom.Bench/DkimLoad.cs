using System.Diagnostics;
using System.Globalization;
using System.Text;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using Mailroom.Mail.Dkim;
using MimeKit;
using MimeKit.Cryptography;

namespace Mailroom.Bench;

/// <summary>
/// Signatures per second of Mailroom's <see cref="DkimSigning"/> (MimeKit canonicalization + .NET RSA) beside MimeKit's
/// stock <see cref="DkimSigner"/> (BouncyCastle RSA) and beside the ceiling, a bare RSA-2048 SignHash, on 1..N threads,
/// for a ~5 KB message; interleaved rounds, medians.
/// </summary>
public static class DkimLoad
{
    public const string Help = """
        DKIM signing: Mailroom's signer vs MimeKit's stock DkimSigner vs bare RSA-2048 (the ceiling), signatures/s.
          --seconds N   length of each measurement (default 3)
          --rounds N    interleaved rounds; medians are printed (default 3)
          --threads L   thread counts, comma-separated (default 1,<cores>)
        """;

    public static Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var window = TimeSpan.FromSeconds(args.Double("seconds", 3, 0.2));
        var rounds = args.Int("rounds", 3, 1);
        var threadCounts = args.IntList("threads", [1, Environment.ProcessorCount]);
        args.RejectUnknown();

        var pair = DkimKeyPair.Generate();
        var key = new DkimKey("mail.example.com", "20240501093000pm", pair.PrivateKeyPem);
        var time = new DateTimeOffset(2024, 5, 1, 9, 30, 5, TimeSpan.Zero);
        var wire = SampleMessage(time);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"message {wire.Length} bytes, RSA-{pair.KeySizeBits}, {Environment.ProcessorCount} cores, {window.TotalSeconds:0.#} s x {rounds} rounds"));

        foreach (var threads in threadCounts)
        {
            var stock = new List<double>();
            var ours = new List<double>();
            var ceiling = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                ct.ThrowIfCancellationRequested();
                stock.Add(Rate(wire, threads, window, () =>
                {
                    var signer = new StockSigner(pair.PrivateKeyPem, key.Domain, key.Selector, time);
                    return m =>
                    {
                        m.Prepare(EncodingConstraint.SevenBit);
                        signer.Sign(m, DkimSigning.HeadersToSign(m));
                    };
                }));
                ours.Add(Rate(wire, threads, window, () => m => DkimSigning.Sign(m, key, time)));
                ceiling.Add(Rate(wire, threads, window, () =>
                {
                    var rsa = System.Security.Cryptography.RSA.Create();
                    rsa.ImportFromPem(pair.PrivateKeyPem);
                    var digest = new byte[32];
                    return _ => rsa.SignHash(digest, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
                }, signsMessage: false));
            }
            double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
            var (s, o, c) = (Median(stock), Median(ours), Median(ceiling));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{threads} thread(s): MimeKit DkimSigner {s,8:N0}/s   Mailroom DkimSigning {o,8:N0}/s ({o / s:0.0}x stock, {o / c:0.00} of the ceiling)   bare RSA SignHash {c,8:N0}/s"));
        }
        return Task.FromResult(0);
    }

    /// <summary>Text + HTML, about 5 KB on the wire.</summary>
    private static byte[] SampleMessage(DateTimeOffset time)
    {
        var paragraph = "Thank you for your order. Your items will ship within two business days; we will send tracking details as soon as the carrier picks them up. ";
        var composer = new MessageComposer(new MessageComposerOptions { MessageIdDomain = "mtasv.example.net" });
        var message = composer.Compose(new OutboundMessageSpec
        {
            From = new NamedAddress("Sender", "sender@mail.example.com"),
            To = [new NamedAddress("Jo Smith", "jo@example.org")],
            Subject = "Your order",
            TextBody = string.Concat(Enumerable.Repeat(paragraph + "\n", 14)),
            HtmlBody = "<html><body>" + string.Concat(Enumerable.Repeat("<p>" + paragraph + "</p>\n", 12)) + "</body></html>",
            MessageId = Guid.NewGuid(),
            Date = time,
        });
        return WireFormat.ToBytes(message);
    }

    /// <summary>Signs copies of <paramref name="wire"/> on <paramref name="threads"/> threads for <paramref name="window"/>; per second.</summary>
    private static double Rate(byte[] wire, int threads, TimeSpan window, Func<Action<MimeMessage>> createSigner, bool signsMessage = true)
    {
        var counts = new long[threads];
        using var ready = new Barrier(threads + 1);
        var stop = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var sign = createSigner();
            var message = MimeMessage.Load(new MemoryStream(wire, writable: false));
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
        Thread.Sleep(window);
        Volatile.Write(ref stop, 1);
        foreach (var worker in workers)
            worker.Join();
        return counts.Sum() / clock.Elapsed.TotalSeconds;
    }

    /// <summary>MimeKit's own signer (BouncyCastle RSA), relaxed/relaxed, at a fixed time.</summary>
    private sealed class StockSigner : DkimSigner
    {
        private readonly long _timestamp;

        public StockSigner(string privateKeyPem, string domain, string selector, DateTimeOffset time)
            : base(new MemoryStream(Encoding.ASCII.GetBytes(privateKeyPem)), domain, selector, DkimSignatureAlgorithm.RsaSha256)
        {
            _timestamp = time.ToUnixTimeSeconds();
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        }

        protected override long GetTimestamp() => _timestamp;
    }
}
