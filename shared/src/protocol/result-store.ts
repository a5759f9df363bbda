import { ProtocolOperations } from "./operations.ts";
import {
  decodeStored,
  encodePending,
  type PendingRecord,
  type StoredRecord,
} from "./records/stored-result.ts";

/**
 * The stored outcomes of async and idempotent requests (`<prefix>:result:<id>`): `pending` at
 * enqueue (here), replaced by the proxy's reply (Completions). And the bodies of results too
 * large for a reply stream (`<prefix>:body:<id>`), read once by the ingress that waits for them.
 */
export class ResultStore extends ProtocolOperations {
  /** `tenant`: whose result it is (undefined = `default`); only that tenant reads it back. */
  async markPending(record: PendingRecord, ttlS: number, tenant?: string): Promise<void> {
    await this.client.set(this.keys.result(record.id, tenant), encodePending(record), { ttlS });
  }

  async read(id: string, tenant?: string): Promise<StoredRecord | undefined> {
    const text = await this.client.get(this.keys.result(id, tenant));
    return text === null ? undefined : decodeStored(text);
  }

  async remove(id: string, tenant?: string): Promise<void> {
    await this.client.del([this.keys.result(id, tenant)]);
  }

  /** A large result's body (`reply.resultRef`), or undefined when it expired first. */
  async readBody(key: string): Promise<string | undefined> {
    return (await this.client.get(key)) ?? undefined;
  }

  async deleteBody(key: string): Promise<void> {
    await this.client.del([key]);
  }
}
