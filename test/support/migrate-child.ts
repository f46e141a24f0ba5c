// Child process for test/migrations.test.ts: opens the database named in argv and migrates it.
import { migrate, openDatabase } from "../../src/store/database.ts";

const [databaseUrl, dataDir] = process.argv.slice(2);
const handle = openDatabase({ databaseUrl: databaseUrl || undefined, dataDir: dataDir ?? "." });
try {
  await migrate(handle.db);
  process.stdout.write("migrated\n");
} finally {
  await handle.close();
}
