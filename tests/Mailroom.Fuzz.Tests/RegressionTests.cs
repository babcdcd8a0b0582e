using Mailroom.Mail.Dkim;
using MimeKit;
using Xunit;

namespace Mailroom.Fuzz.Tests;

/// <summary>
/// Inputs the harness found (kept in <c>Regressions/</c>, named <c>target-kind-hash</c> as the harness saved them,
/// reduced where the original was large), replayed through the target that found them, plus what each fix changed.
/// </summary>
public sealed class RegressionTests
{
    private static byte[] Input(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Regressions", name));

    public static TheoryData<string> Saved => [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Regressions"), "*.eml")
        .Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    /// <summary>Every saved input passes the properties of the target that found it.</summary>
    [Theory]
    [MemberData(nameof(Saved))]
    public void SavedInputPassesItsTarget(string name)
    {
        var data = Input(name);
        if (name.StartsWith("mime-prepare-", StringComparison.Ordinal))
            MailParserFuzzTests.PrepareAsStored(data);
        else if (name.StartsWith("bounce-", StringComparison.Ordinal))
            MailParserFuzzTests.ParseBounce(data);
        else if (name.StartsWith("arf-", StringComparison.Ordinal))
            MailParserFuzzTests.ParseComplaint(data);
        else
            Assert.Fail($"No target for the saved input {name}.");
    }

    /// <summary>
    /// mime-prepare hang: a submitted message with 49,000 Content-Type fields took 71 s to DKIM-sign (the signer
    /// looks each h= entry up by scanning the headers). Reduced to 300 fields here; the signature now names each
    /// field at most <see cref="DkimSigning.MaxInstancesPerField"/> times.
    /// </summary>
    [Fact]
    public void RepeatedSignedFieldsAreSignedAFewTimesNotOncePerInstance()
    {
        using var message = MimeMessage.Load(new MemoryStream(Input("mime-prepare-hang-8a4abb6fd050.eml")));
        Assert.True(message.Body!.Headers.Count(h => h.Id == HeaderId.ContentType) > 100);
        var names = DkimSigning.HeadersToSign(message);
        Assert.Equal(DkimSigning.MaxInstancesPerField, names.Count(n => n == "Content-Type"));
    }
}
