using System.Text;

namespace Mailroom.Mail.Dkim;

/// <summary>
/// What signing needs to know about one DKIM key: the signing domain (<c>d=</c>), the selector (<c>s=</c>)
/// and the private key PEM (PKCS#8 or PKCS#1). Plain data, compared by value, so it can key a cache
/// (<see cref="DkimKeyCache"/>). <see cref="ToString"/> never prints the private key.
/// </summary>
public sealed record DkimKey(string Domain, string Selector, string PrivateKeyPem)
{
    bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Domain = ").Append(Domain).Append(", Selector = ").Append(Selector).Append(", PrivateKeyPem = (redacted)");
        return true;
    }
}
