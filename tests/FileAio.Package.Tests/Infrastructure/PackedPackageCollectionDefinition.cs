namespace FileAio.Package.Tests.Infrastructure;

/// <summary>The tests that share one packed library (packing takes most of their time, so it happens once).</summary>
[CollectionDefinition(nameof(PackedPackageCollectionDefinition))]
public sealed class PackedPackageCollectionDefinition : ICollectionFixture<PackedPackage>;
