//! The processing-job queue: `command:` records plus a FIFO of job ids.
//!
//! A job is queued in the same transaction as the record it works on, claimed by a worker
//! (status `running`, attempt counted) and finished as `completed` or `failed` with a reason.
//! At start-up, jobs left `running` by a crash are put back in the queue, and a job that has
//! used up its attempts is failed instead, so no job stays in progress forever.

use redb::{ReadableTable, WriteTransaction};

use super::records::{Job, JobStatus};
use super::{JOB_QUEUE, JOBS, Store, StoreResult, all_records, get_record, now_micros, put_record};

/// How many times a job is started before it is failed for good.
pub const MAX_ATTEMPTS: u32 = 3;

/// The reason a cancelled job reports.
pub const CANCELLED: &str = "Cancelled by request before it started";

/// Stores a job and, if it still has to run, appends it to the queue.
pub(crate) fn put_job_in(txn: &WriteTransaction, job: &Job) -> StoreResult<()> {
    put_record(txn, JOBS, &job.id, job)?;
    if matches!(job.status, JobStatus::New | JobStatus::Queued) {
        push_queue(txn, &job.id)?;
    }
    Ok(())
}

fn push_queue(txn: &WriteTransaction, job_id: &str) -> StoreResult<()> {
    let mut queue = txn.open_table(JOB_QUEUE)?;
    let next = match queue.last()? {
        Some((seq, _)) => seq.value() + 1,
        None => 1,
    };
    queue.insert(next, job_id)?;
    Ok(())
}

impl Store {
    /// Reads one job.
    pub fn job(&self, id: &str) -> StoreResult<Option<Job>> {
        let txn = self.read()?;
        get_record(&txn.open_table(JOBS)?, id)
    }

    /// Jobs newest first (ties by id), optionally only one command or one status.
    pub fn jobs(
        &self,
        command: Option<&str>,
        status: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Job>> {
        let txn = self.read()?;
        let mut jobs: Vec<Job> = all_records(&txn.open_table(JOBS)?)?;
        jobs.retain(|job| {
            command.is_none_or(|c| job.command == c)
                && status.is_none_or(|s| job.status.as_str() == s)
        });
        jobs.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        jobs.truncate(limit);
        Ok(jobs)
    }

    /// Cancels a job that has not started: it ends `failed` with a reason and the workers
    /// skip it. `None` if the job does not exist, else whether it was cancelled (a running
    /// or finished job is left as it is).
    pub fn cancel_job(&self, id: &str) -> StoreResult<Option<bool>> {
        self.write(|txn| {
            let Some(mut job) = get_record::<Job>(&txn.open_table(JOBS)?, id)? else {
                return Ok(None);
            };
            if !matches!(job.status, JobStatus::New | JobStatus::Queued) {
                return Ok(Some(false));
            }
            let now = now_micros();
            job.status = JobStatus::Failed;
            job.error_message = Some(CANCELLED.into());
            job.completed_at = Some(now);
            job.updated = now;
            put_record(txn, JOBS, id, &job)?;
            Ok(Some(true))
        })
    }

    /// Queues an existing job again (retry), resetting its error.
    pub fn requeue_job(&self, job: &Job) -> StoreResult<()> {
        self.write(|txn| {
            let mut job = job.clone();
            job.status = JobStatus::Queued;
            job.error_message = None;
            job.attempts = 0;
            job.started_at = None;
            job.completed_at = None;
            job.updated = now_micros();
            put_job_in(txn, &job)
        })
    }

    /// Takes the oldest queued job, marking it running; `None` when the queue is empty.
    pub fn claim_next_job(&self) -> StoreResult<Option<Job>> {
        self.write(|txn| {
            loop {
                let Some((seq, job_id)) = first_in_queue(txn)? else { return Ok(None) };
                txn.open_table(JOB_QUEUE)?.remove(seq)?;
                let Some(mut job) = get_record::<Job>(&txn.open_table(JOBS)?, &job_id)? else {
                    continue;
                };
                if !job.status.is_active() {
                    continue;
                }
                job.status = JobStatus::Running;
                job.attempts += 1;
                job.started_at = Some(now_micros());
                job.updated = now_micros();
                put_record(txn, JOBS, &job.id, &job)?;
                return Ok(Some(job));
            }
        })
    }

    /// Ends a job: `Ok` completes it, `Err(reason)` fails it.
    pub fn finish_job(&self, id: &str, outcome: Result<(), String>) -> StoreResult<()> {
        self.write(|txn| {
            let Some(mut job) = get_record::<Job>(&txn.open_table(JOBS)?, id)? else {
                return Ok(());
            };
            let now = now_micros();
            match outcome {
                Ok(()) => job.status = JobStatus::Completed,
                Err(reason) => {
                    job.status = JobStatus::Failed;
                    job.error_message = Some(reason);
                }
            }
            job.completed_at = Some(now);
            job.updated = now;
            put_record(txn, JOBS, id, &job)
        })
    }

    /// Puts jobs interrupted by a crash back in the queue; returns (requeued, failed).
    pub fn recover_jobs(&self) -> StoreResult<(usize, usize)> {
        self.write(|txn| {
            let jobs: Vec<Job> = all_records(&txn.open_table(JOBS)?)?;
            let queued: Vec<String> = txn
                .open_table(JOB_QUEUE)?
                .iter()?
                .map(|e| e.map(|(_, id)| id.value().to_string()))
                .collect::<Result<_, _>>()?;
            let (mut requeued, mut failed) = (0, 0);
            for mut job in jobs.into_iter().filter(|j| j.status.is_active()) {
                if job.status != JobStatus::Running && queued.contains(&job.id) {
                    continue;
                }
                job.updated = now_micros();
                if job.attempts >= MAX_ATTEMPTS {
                    job.status = JobStatus::Failed;
                    job.error_message =
                        Some("Processing was interrupted too many times; use retry".into());
                    job.completed_at = Some(job.updated);
                    put_record(txn, JOBS, &job.id, &job)?;
                    failed += 1;
                } else {
                    job.status = JobStatus::Queued;
                    put_job_in(txn, &job)?;
                    requeued += 1;
                }
            }
            Ok((requeued, failed))
        })
    }
}

fn first_in_queue(txn: &WriteTransaction) -> StoreResult<Option<(u64, String)>> {
    let queue = txn.open_table(JOB_QUEUE)?;
    let first = queue.first()?.map(|(seq, id)| (seq.value(), id.value().to_string()));
    Ok(first)
}
