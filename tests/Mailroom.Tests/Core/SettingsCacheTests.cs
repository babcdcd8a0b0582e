namespace Mailroom.Tests.Core;

/// <summary>The node's settings cache on its own: kept answers, emptied by a write, reloaded after MaxAge. (That every
/// write of a settings table through EF empties it, on both providers, is shown by the API tests that change a
/// setting and send at once: deleted server tokens, new streams, suppressions per stream.)</summary>
public sealed class SettingsCacheTests
{
    [Fact]
    public async Task AnAnswerIsKeptUntilAWriteEmptiesTheCache()
    {
        var cache = new SettingsCache { MaxAge = TimeSpan.FromHours(1) };
        var loads = 0;
        Task<string?> Load() => Task.FromResult<string?>("v" + ++loads);
        Assert.Equal("v1", await cache.GetOrLoadAsync("r", 1, Load));
        Assert.Equal("v1", await cache.GetOrLoadAsync("r", 1, Load));
        Assert.Equal("v2", await cache.GetOrLoadAsync("r", 2, Load));
        cache.Invalidate();
        Assert.Equal("v3", await cache.GetOrLoadAsync("r", 1, Load));
        Assert.Equal(3, loads);
    }

    [Fact]
    public async Task NullIsNotKeptAndRegionsAreApart()
    {
        var cache = new SettingsCache { MaxAge = TimeSpan.FromHours(1) };
        var loads = 0;
        Assert.Null(await cache.GetOrLoadAsync<string>("token", "x", () => { loads++; return Task.FromResult<string?>(null); }));
        Assert.Null(await cache.GetOrLoadAsync<string>("token", "x", () => { loads++; return Task.FromResult<string?>(null); }));
        Assert.Equal(2, loads);
        Assert.Equal("a", await cache.GetOrLoadAsync("one", "k", () => Task.FromResult<string?>("a")));
        Assert.Equal("b", await cache.GetOrLoadAsync("two", "k", () => Task.FromResult<string?>("b")));
    }

    [Fact]
    public async Task AnAnswerLoadedWhileAWriteHappenedIsNotKept()
    {
        var cache = new SettingsCache { MaxAge = TimeSpan.FromHours(1) };
        // The write lands between the read and the caching: the answer may predate it.
        Assert.Equal("old", await cache.GetOrLoadAsync("r", 1, () => { cache.Invalidate(); return Task.FromResult<string?>("old"); }));
        Assert.Equal("new", await cache.GetOrLoadAsync("r", 1, () => Task.FromResult<string?>("new")));
    }

    [Fact]
    public async Task AnswersOlderThanMaxAgeAreLoadedAgain()
    {
        // Another node's write is not seen by the interceptor: MaxAge bounds how long it goes unseen.
        var cache = new SettingsCache { MaxAge = TimeSpan.Zero };
        var loads = 0;
        await cache.GetOrLoadAsync("r", 1, () => Task.FromResult<string?>("v" + ++loads));
        await cache.GetOrLoadAsync("r", 1, () => Task.FromResult<string?>("v" + ++loads));
        Assert.Equal(2, loads);
    }

    [Fact]
    public async Task TheCacheIsClearedWhenItHasStoredCapacityAnswers()
    {
        // Senders choose the keys (any From address), so the cache must not grow without bound.
        var cache = new SettingsCache { MaxAge = TimeSpan.FromHours(1), Capacity = 3 };
        var loads = 0;
        Task<string?> Load() => Task.FromResult<string?>("v" + ++loads);
        await cache.GetOrLoadAsync("r", 1, Load);
        await cache.GetOrLoadAsync("r", 2, Load);
        await cache.GetOrLoadAsync("r", 3, Load);
        Assert.Equal("v1", await cache.GetOrLoadAsync("r", 1, Load));
        await cache.GetOrLoadAsync("r", 4, Load); // the fourth store clears the first three
        Assert.Equal("v5", await cache.GetOrLoadAsync("r", 1, Load));
        Assert.Equal("v4", await cache.GetOrLoadAsync("r", 4, Load));
    }
}
