using System.Text;
using System.Text.Json;
using Mailroom.Fuzz.Tests.Harness;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using MimeKit;
using Xunit;

namespace Mailroom.Fuzz.Tests;

/// <summary>
/// MessageComposer with hostile field values (names, subject, custom headers, bodies, attachment names and types):
/// it refuses with <see cref="CompositionException"/> (documented) or writes a message that parses back with exactly
/// the header fields it wrote (no header injection), no header line over 998 characters (RFC 5322 §2.1.1) and no Bcc.
/// Budget weight (out of 60): 6.
/// </summary>
public sealed class ComposerFuzzTests
{
    private static readonly MessageComposer Composer = new(new MessageComposerOptions { MessageIdDomain = "mtasv.example.net" });
    private static readonly MessageComposer ComposerWithIds = new(new MessageComposerOptions { MessageIdDomain = "mtasv.example.net", AllowCustomMessageId = true });

    private static readonly string[] GoodAddresses = ["jo@example.org", "ann.lee+tag@mail.example.com", "x@b.example", "o'neil@example.net"];
    private static readonly string[] HeaderNames =
    [
        "X-Campaign", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID", "In-Reply-To", "References", "Message-ID", "Keywords",
        "Comments", "X-PM-Tag", "Content-Type", "Bcc", "Subject", "Received", "Resent-From", "ARC-Seal", "X-\u00e9", "X Bad", "X:Bad", "",
    ];

    /// <summary>One input: the spec and the composer's switches, saved as JSON (<see cref="Replay"/> reads it back).</summary>
    public sealed record Case(OutboundMessageSpec Spec, bool CustomIds, bool Prepare);

    [Fact]
    public void ComposerRefusesOrWritesOnlyTheFieldsItMeant() =>
        Fuzzer.Check("composer", 6, new GenFrom<Case>(Spec), c => JsonSerializer.SerializeToUtf8Bytes(c),
            c => Compose(c.Spec, c.CustomIds, c.Prepare), e => e is CompositionException);

    /// <summary>A saved input, composed again.</summary>
    internal static void Replay(byte[] json)
    {
        var c = JsonSerializer.Deserialize<Case>(json)!;
        Compose(c.Spec, c.CustomIds, c.Prepare);
    }

    private static Case Spec(Rng r)
    {
        string Hostile() => r.Chance(50) ? TextInputs.TextOf(r) : TextInputs.Address(r);
        string? Name() => r.Next(3) switch { 0 => null, 1 => "Jo Smith", _ => Hostile() };
        NamedAddress Addr() => new(Name(), r.Chance(85) ? r.Pick(GoodAddresses) : TextInputs.Address(r));
        IReadOnlyList<NamedAddress> Addrs(int max) => [.. Enumerable.Range(0, r.Next(max + 1)).Select(_ => Addr())];
        var headers = Enumerable.Range(0, r.Chance(90) ? r.Next(5) : r.Between(5, 300)).Select(_ =>
            new MessageHeader(r.Chance(80) ? r.Pick(HeaderNames) : Hostile(), r.Chance(30) ? "<a@b.example>" : Hostile())).ToList();
        var attachments = Enumerable.Range(0, r.Next(3)).Select(_ => new MessageAttachment(
            r.Chance(50) ? "report.pdf" : Hostile(), r.Bytes(r.Length(2000)),
            r.Pick<string?>([null, "application/pdf", "text/plain; charset=utf-8", "image/png", "message/rfc822", "multipart/mixed", "bogus", "a/b; x=\"", Hostile()]),
            r.Pick<string?>([null, "cid:logo.png", "logo.png", "<a@b>", Hostile()]))).ToList();
        var spec = new OutboundMessageSpec
        {
            From = Addr(),
            To = r.Chance(90) ? [Addr(), .. Addrs(3)] : Addrs(2),
            Cc = Addrs(2),
            Bcc = Addrs(2),
            ReplyTo = Addrs(1),
            Subject = r.Pick<string?>([null, "Hello", Hostile(), Hostile()]),
            TextBody = r.Pick<string?>([null, "Hi\nthere", Hostile()]),
            HtmlBody = r.Pick<string?>([null, "<p>Hi <img src=\"cid:logo.png\"></p>", Hostile()]),
            Headers = headers,
            Attachments = attachments,
            MessageId = Guid.NewGuid(),
            Date = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        };
        return new Case(spec, r.Chance(30), r.Chance(50));
    }

    internal static void Compose(OutboundMessageSpec spec, bool customIds, bool prepare)
    {
        using var message = (customIds ? ComposerWithIds : Composer).Compose(spec, prepare);
        var bytes = WireFormat.ToBytes(message);
        using var reloaded = MimeMessage.Load(new MemoryStream(bytes));
        Assert.Equal(message.Headers.Select(h => h.Field.ToLowerInvariant()), reloaded.Headers.Select(h => h.Field.ToLowerInvariant()));
        Assert.DoesNotContain(reloaded.Headers, h => h.Field.Equals("Bcc", StringComparison.OrdinalIgnoreCase));

        var headerEnd = IndexOf(bytes, "\r\n\r\n"u8);
        var lineStart = 0;
        for (var i = 0; i < headerEnd; i++)
        {
            if (bytes[i] != '\n')
                continue;
            Assert.True(i - 1 - lineStart <= 998, $"header line of {i - 1 - lineStart} characters");
            lineStart = i + 1;
        }
    }

    private static int IndexOf(byte[] bytes, ReadOnlySpan<byte> what)
    {
        var i = bytes.AsSpan().IndexOf(what);
        return i < 0 ? bytes.Length : i;
    }
}
