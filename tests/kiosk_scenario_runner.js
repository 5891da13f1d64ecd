// Plays one scenario of tests/kiosk_scenarios.json on the web kiosk's state machine
// (static/kiosk/state.js), inside a page of the appliance, with a clock that moves only when told.
// Evaluated by tests/test_kiosk_scenarios.py, which plays the same steps on the Python one and
// compares both to the table: this returns, per step, the effects in the table's form and what the
// screen would show, the same records as the Python runner.
async ({steps, monotonicMs, wallMs}) => {
  const {KioskState, SAVE, formatRemaining} = await import('/static/kiosk/state.js');
  const clock = {
    mono: monotonicMs,
    wall: wallMs,
    monotonic() { return this.mono; },
    time() { return this.wall; },
  };
  const kiosk = new KioskState(clock);
  const records = [];
  for (const step of steps) {
    let effects = [];
    if ('server' in step) {
      effects = kiosk.handleMessage(step.server);
    } else if ('connect' in step) {
      effects = kiosk.connected();
    } else if ('disconnect' in step) {
      effects = kiosk.disconnected(step.disconnect);
    } else if ('type_code' in step) {
      effects = kiosk.submitCode(step.type_code);
    } else if ('end_session' in step) {
      effects = kiosk.endSession();
    } else if ('dismiss_notice' in step) {
      kiosk.dismissNotice();
    } else if ('accept_charter' in step) {
      effects = kiosk.acceptCharter();
    } else if ('decline_charter' in step) {
      effects = kiosk.declineCharter();
    } else if ('wait' in step) {
      const ms = Math.round(step.wait * 1000);
      clock.mono += ms;
      clock.wall += ms;
      effects = kiosk.tick();
    } else if ('resume' in step) {
      effects = kiosk.resume(step.resume.code, clock.wall + step.resume.left * 1000);
    } else if ('pause' in step) {
      effects = kiosk.pause();
    } else if ('request_time' in step) {
      effects = kiosk.requestTime(step.request_time);
    } else if ('activity' in step) {
      kiosk.activity();
    } else if (!('observe' in step)) {
      throw new Error('unknown step ' + JSON.stringify(step));
    }
    const feedback = kiosk.feedback;
    records.push({
      effects: effects.map((e) => (e[0] === SAVE ? [SAVE, e[1], (e[2] - clock.wall) / 1000] : e)),
      state: {
        locked: kiosk.locked,
        code: kiosk.code,
        remaining: kiosk.remaining(),
        countdown: formatRemaining(kiosk.remaining()),
        feedback: [feedback.text, feedback.error],
        notice: kiosk.notice,
        link: kiosk.linkText,
        can_enter_code: kiosk.canEnterCode,
        waiting_answer: kiosk.waitingAnswer,
        library: kiosk.libraryName,
        home_page: kiosk.homePage,
        charter: kiosk.charter,
        paused: kiosk.paused,
        message: kiosk.message,
        request_pending: kiosk.requestPending,
      },
    });
  }
  return records;
}
