using Mailroom.Mail.Bounces;

namespace Mailroom.Mail.Tests.Bounces;

/// <summary>The checks the hand-written bounce tests make on a parsed report, written once.</summary>
internal static class BounceAssert
{
    /// <summary>The report names exactly one recipient, <paramref name="email"/> (of <paramref name="type"/> when
    /// given); returns it for the test's further checks.</summary>
    public static BouncedRecipient SingleRecipient(BounceReport report, string email, BounceType? type = null)
    {
        var r = Assert.Single(report.Recipients);
        Assert.Equal(email, r.Email);
        if (type is { } t)
            Assert.Equal(t, r.Type);
        return r;
    }

    /// <summary>The report is of <paramref name="kind"/> and its message-level type is <paramref name="type"/>.</summary>
    public static void Classified(BounceReport report, BounceReportKind kind, BounceType type)
    {
        Assert.Equal(kind, report.Kind);
        Assert.Equal(type, report.Type);
    }
}
