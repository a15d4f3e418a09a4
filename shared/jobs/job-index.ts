import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Names } from "../nats/names.js";
import { readSubject } from "../nats/read-subject.js";

/**
 * The jobs stream: an index of every job in submission order (`GET /jobs` reads it backwards by
 * sequence with direct gets, never listing keys), and the set of jobs not yet finished, one
 * subject each (the reconciler lists them from the stream's subject counts, one request).
 */
export class JobIndex {
  /**
   * @param removesMarkers whether this process removes a finished job's marker (a purge of the
   *   jobs stream). A worker does not: its NATS user may not purge that stream (secure.conf), so
   *   the api's reconciler removes the markers of the jobs workers finish.
   */
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: Names,
    readonly removesMarkers = true,
  ) {}

  /** Adds a job to the listing; repeating it inside the duplicate window adds nothing. */
  async add(jobId: string): Promise<void> {
    await this.js.publish(this.names.jobIndexSubject, jobId, { msgID: `index:${jobId}` });
  }

  async markActive(jobId: string): Promise<void> {
    await this.js.publish(this.names.jobActiveSubject(jobId), "", { msgID: `active:${jobId}` });
  }

  async unmarkActive(jobId: string): Promise<void> {
    await this.jsm.streams.purge(this.names.jobsStream, { filter: this.names.jobActiveSubject(jobId) });
  }

  /** Whether the jobs bucket was found in the current layout (see JobStore.migrateLegacyJobs). */
  async converted(): Promise<boolean> {
    return (await this.jsm.direct.getMessage(this.names.jobsStream, { last_by_subj: this.names.jobLayoutSubject })) !== null;
  }

  async markConverted(): Promise<void> {
    await this.js.publish(this.names.jobLayoutSubject, "2");
  }

  /** Jobs not finished yet, with the time each was marked. */
  async active(): Promise<{ id: string; since: Date | null }[]> {
    const info = await this.jsm.streams.info(this.names.jobsStream, { subjects_filter: this.names.jobActiveFilter });
    const prefix = this.names.jobActiveSubject("");
    const ids = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
    return Promise.all(
      ids.map(async (id) => {
        const m = await this.jsm.direct.getMessage(this.names.jobsStream, { last_by_subj: this.names.jobActiveSubject(id) });
        return { id, since: m?.time ?? null };
      }),
    );
  }

  /** The stream's first and last sequence: a newest-first walk starts past the last. */
  async bounds(): Promise<{ first: number; last: number }> {
    const info = await this.jsm.streams.info(this.names.jobsStream);
    return { first: Math.max(1, info.state.first_seq), last: info.state.last_seq };
  }

  /**
   * Index entries among the `count` sequences below `before` (down to `first`), newest first,
   * read with direct gets in parallel; other subjects and removed messages are skipped.
   */
  async entriesBelow(before: number, count: number, first: number): Promise<{ id: string; seq: number }[]> {
    const seqs: number[] = [];
    for (let s = before - 1; s >= first && seqs.length < count; s--) seqs.push(s);
    const msgs = await Promise.all(seqs.map((seq) => this.jsm.direct.getMessage(this.names.jobsStream, { seq })));
    return msgs.filter((m) => m !== null && m.subject === this.names.jobIndexSubject).map((m) => ({ id: new TextDecoder().decode(m!.data), seq: m!.seq }));
  }

  /**
   * Index entries from sequence `from` on, oldest first, to the end the stream leader knows
   * (readSubject): a reader that remembers where it got to (the sink audit) must not step past
   * entries a replica behind did not have yet, as a sequence window read by direct gets would.
   */
  async *entriesFrom(from: number): AsyncGenerator<{ id: string; seq: number; time: Date }> {
    for await (const m of readSubject(this.jsm, this.names.jobsStream, this.names.jobIndexSubject, { from })) yield { id: m.string(), seq: m.seq, time: m.time };
  }
}
