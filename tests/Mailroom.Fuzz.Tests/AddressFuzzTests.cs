using CsCheck;
using Mailroom.Fuzz.Tests.Harness;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using Xunit;

namespace Mailroom.Fuzz.Tests;

/// <summary>
/// Address parsing on hostile strings (<see cref="TextInputs.Addresses"/>): the API's address check, VERP decoding
/// and the API's address-list parser. Budget weights (out of 60): 4 and 1.
/// </summary>
public sealed class AddressFuzzTests
{
    [Fact]
    public void AddressParsersNeverThrowAndAgreeWithEachOther() =>
        Fuzzer.Check("address", 4, TextInputs.Addresses, s => System.Text.Encoding.UTF8.GetBytes(s), CheckAddress,
            // AddressListParser.Parse documents CompositionException; the other calls never throw.
            e => e is CompositionException && e.Data.Contains("Parse"));

    internal static void CheckAddress(string s)
    {
        if (EmailAddress.IsValid(s))
        {
            Assert.True(s.Length <= 254);
            Assert.True(EmailAddress.IsValidDomain(EmailAddress.DomainOf(s)), $"valid address with an invalid domain: {s}");
            Assert.NotEmpty(EmailAddress.LocalPartOf(s));
        }
        EmailAddress.IsValidDomain(s);

        if (Verp.TryDecode(s, out var verp))
        {
            // Decoding reads only the shape: a made-up MAC decodes, and only the signer's MAC verifies.
            var bare = s.Trim().TrimStart('<').TrimEnd('>');
            Assert.Equal(bare.ToLowerInvariant(), $"{Verp.Prefix}+{verp.MessageId:N}-{verp.RecipientIndex}-{verp.Mac}@{verp.Domain}".ToLowerInvariant());
            Assert.False(Signer.Verify(verp), $"a generated address verified without the key: {s}"); // odds 2^-52
        }

        if (AddressListParser.TryParse(s, "To", out var list, out var error))
        {
            Assert.Null(error);
            foreach (var a in list)
            {
                Assert.True(EmailAddress.IsValid(a.Address), $"parsed an invalid address '{a.Address}' from '{s}'");
                if (a.Name is not null)
                    Assert.Null(HeaderText.FindControl(a.Name));
            }
            Assert.Equal(list.Count, AddressListParser.CountRecipients(s));
        }
        else
        {
            Assert.NotNull(error);
        }
        try
        {
            AddressListParser.Parse(s, "Cc");
        }
        catch (CompositionException e)
        {
            e.Data["Parse"] = true;
            throw;
        }
    }

    private static readonly VerpSigner Signer = new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>Every address <see cref="VerpSigner.Encode"/> makes decodes to what it encoded, whatever the letter case on the way back.</summary>
    [Fact]
    public void VerpRoundTripsEveryMessageRecipientAndDomain()
    {
        var domains = Gen.OneOf("b.example", "pm-bounces.example.com", "xn--bcher-kva.example", "a-b.c-d.example", "x.y.z.example.org");
        Gen<(Guid, int, string, bool)> gen = Gen.Select(Gen.Guid, Gen.Int[0, int.MaxValue], domains, Gen.Bool);
        Fuzzer.Check("verp", 1, gen, v => System.Text.Encoding.UTF8.GetBytes(v.ToString()), v =>
        {
            var (id, index, domain, upper) = v;
            index %= Verp.MaxRecipientIndex + 1;
            var address = Signer.Encode(id, index, domain);
            Assert.True(address.Length <= 254 && address.IndexOf('@') <= EmailAddress.MaxLocalPartLength);
            Assert.True(Verp.TryDecode(upper ? address.ToUpperInvariant() : address, out var decoded), address);
            Assert.Equal((id, index, domain), (decoded.MessageId, decoded.RecipientIndex, decoded.Domain));
            Assert.True(Signer.Verify(decoded), address);
        });
    }
}
