//! Replies owed to the peer in the order its requests arrived, whatever order the
//! application answers them in (RFC 4254 §4 and §5.4 require the order). Used for channel
//! requests and global requests alike.

use crate::error::{ApiMisuse, Error, PeerMisbehaved};
use std::collections::VecDeque;

/// Requests waiting for answers, by serial, with the answer once given.
#[derive(Debug)]
pub(crate) struct OrderedReplies<T> {
    owed: VecDeque<(u64, Option<T>)>,
    cap: usize,
}

impl<T> OrderedReplies<T> {
    /// At most `cap` unanswered requests; more is the peer flooding us.
    pub fn new(cap: usize) -> Self {
        OrderedReplies {
            owed: VecDeque::new(),
            cap,
        }
    }

    /// Records a request that wants a reply.
    pub fn owe(&mut self, serial: u64) -> Result<(), Error> {
        if self.owed.len() >= self.cap {
            return Err(PeerMisbehaved::TooManyPendingRequests.into());
        }
        self.owed.push_back((serial, None));
        Ok(())
    }

    /// Whether no request waits for an answer.
    pub fn is_empty(&self) -> bool {
        self.owed.is_empty()
    }

    /// Whether `serial` still waits for its answer.
    pub fn is_owed(&self, serial: u64) -> bool {
        self.owed.iter().any(|(s, a)| *s == serial && a.is_none())
    }

    /// Records the answer to `serial` and returns the answers now due, in arrival order.
    pub fn answer(&mut self, serial: u64, answer: T) -> Result<Vec<T>, Error> {
        let slot = self
            .owed
            .iter_mut()
            .find(|(s, a)| *s == serial && a.is_none())
            .ok_or(Error::ApiMisuse(ApiMisuse::WrongState(
                "no such request pending",
            )))?;
        slot.1 = Some(answer);
        let mut due = Vec::new();
        while self.owed.front().is_some_and(|(_, a)| a.is_some()) {
            if let Some((_, Some(a))) = self.owed.pop_front() {
                due.push(a);
            }
        }
        Ok(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_leave_in_arrival_order_and_the_cap_holds() {
        let mut r = OrderedReplies::new(3);
        for s in 1..=3 {
            r.owe(s).unwrap();
        }
        assert!(r.owe(4).is_err());
        assert!(r.answer(2, 'b').unwrap().is_empty());
        assert!(r.answer(2, 'x').is_err(), "answered twice");
        assert_eq!(r.answer(1, 'a').unwrap(), vec!['a', 'b']);
        assert!(r.is_owed(3) && !r.is_owed(1));
        assert_eq!(r.answer(3, 'c').unwrap(), vec!['c']);
        assert!(r.answer(9, 'z').is_err());
    }
}
