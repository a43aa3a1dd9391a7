using System.Reflection;
using FileAio.Interop;
using FileAio.Tests.Infrastructure;

namespace FileAio.Tests;

/// <summary><see cref="AioErrno"/>: Linux's names and numbers, the C library's texts, and the library's messages that
/// carry them.</summary>
public sealed class AioErrnoTests : FileAioTest
{
    [Theory]
    [InlineData(1, "EPERM")]
    [InlineData(2, "ENOENT")]
    [InlineData(5, "EIO")]
    [InlineData(11, "EAGAIN")]
    [InlineData(13, "EACCES")]
    [InlineData(22, "EINVAL")]
    [InlineData(28, "ENOSPC")]
    [InlineData(38, "ENOSYS")]
    [InlineData(61, "ENODATA")]
    [InlineData(95, "EOPNOTSUPP")]
    [InlineData(117, "EUCLEAN")]
    [InlineData(122, "EDQUOT")]
    [InlineData(125, "ECANCELED")]
    public void GetName_OnLinux_GivesTheKernelsName(int errno, string name)
    {
        Require.Linux();
        Assert.Equal(name, AioErrno.GetName(errno));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    [InlineData(4000)]
    public void GetName_OfANumberWithoutAName_IsNull(int errno)
    {
        Assert.Null(AioErrno.GetName(errno));
    }

    [Fact]
    public void Table_NamesEveryConstantWithItsOwnName()
    {
        Require.Linux();
        FieldInfo[] constants = typeof(Errno).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name != nameof(Errno.LastCommonUnix)).ToArray();
        Assert.True(constants.Length >= 40, $"only {constants.Length} constants found");
        foreach (FieldInfo constant in constants)
        {
            Assert.Equal(constant.Name, AioErrno.GetName((int)constant.GetValue(null)!));
        }
    }

    [Fact]
    public void MessageAndDescribe_GiveTheCLibrarysTextNameAndNumber()
    {
        Require.Linux();
        Assert.Equal("No such file or directory", AioErrno.GetMessage(2));
        Assert.Equal("No space left on device (ENOSPC, errno 28)", AioErrno.Describe(28));
        Assert.Equal("Operation canceled (ECANCELED, errno 125)", AioErrno.Describe(125));
        Assert.EndsWith(" (errno 4000)", AioErrno.Describe(4000));
    }

    [Fact]
    public async Task AnIOExceptionFromTheLibrary_CarriesTheErrnosNameAndNumber_AndTheErrnoAsHResult()
    {
        Require.Linux();
        string path = CreatePatternFile("w.bin", 100);
        await using AioFile file = AioFile.Open(path, FileMode.Open, FileAccess.Write);

        // Reading a descriptor opened write-only: the kernel answers EBADF.
        IOException e = await Assert.ThrowsAsync<IOException>(async () => await file.ReadAsync(new byte[10], 0));

        Assert.Equal(Errno.EBADF, e.HResult);
        Assert.Contains("(EBADF, errno 9)", e.Message);
        Assert.Contains(path, e.Message);
    }
}
