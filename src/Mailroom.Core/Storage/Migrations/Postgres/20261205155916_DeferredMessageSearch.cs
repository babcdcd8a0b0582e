using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DeferredMessageSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Nothing on PostgreSQL: its pg_trgm GIN indexes (MessageSearchIndexes) are maintained by the insert itself
            // through GIN's fast-update pending list; the deferred index (cursor table, conditional triggers) is SQLite's.
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
