//! History never goes back: a later attempt of a run (a resume from another directory or
//! machine, or several writers of one run id) must not overwrite rows an earlier attempt already
//! had acknowledged. As in wandb, a row whose step is not above the run's last step is dropped
//! and counted, so the writer can be warned; consecutive fragments of the row the same log has
//! open are still one row.

use rusqlite::{Connection, params};

use crate::Result;

/// The run's last step and the log that wrote it, updated as a batch is applied.
#[derive(Clone, Debug, Default)]
pub struct StepGuard {
    pub last_step: Option<i64>,
    pub owner: Option<String>,
    /// History records refused in this batch.
    pub dropped: usize,
}

impl StepGuard {
    /// Whether a history record of `log_id` at `step` may be applied; records the new last
    /// step when it is.
    #[must_use = "a refused record must be skipped"]
    pub fn admit(&mut self, log_id: &str, step: i64) -> bool {
        let ok = match self.last_step {
            None => true,
            Some(last) => step > last || (step == last && self.owner.as_deref() == Some(log_id)),
        };
        if ok {
            if self.owner.as_deref() != Some(log_id) {
                self.owner = Some(log_id.to_owned());
            }
            self.last_step = Some(step);
        } else {
            self.dropped += 1;
        }
        ok
    }

    pub(crate) fn load(c: &Connection, pk: i64) -> Result<StepGuard> {
        let (last_step, owner) = c.query_row("SELECT last_step, last_step_log FROM runs WHERE pk = ?1", [pk], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(StepGuard { last_step, owner, dropped: 0 })
    }

    pub(crate) fn save(&self, c: &Connection, pk: i64) -> Result<()> {
        c.execute("UPDATE runs SET last_step_log = ?2 WHERE pk = ?1", params![pk, self.owner])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::StepGuard;

    #[test]
    fn a_second_log_cannot_rewrite_steps_the_first_wrote() {
        let mut g = StepGuard::default();
        assert!(g.admit("a", 0) && g.admit("a", 0) && g.admit("a", 5));
        assert!(!g.admit("b", 0) && !g.admit("b", 5), "b's lower and equal steps are dropped");
        assert!(g.admit("b", 6) && g.admit("b", 6));
        assert!(!g.admit("a", 6), "a's row at 6 was closed by b");
        assert_eq!(g.dropped, 3);
    }
}
