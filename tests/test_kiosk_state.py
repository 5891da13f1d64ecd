"""The kiosk's session state machine, to the second, with a clock that moves only when told."""
import pytest

from appliance.kiosk.state import (
    END_COMMAND, FORGET, SAVE, SEND, KioskState, format_remaining, minutes_text)

START_WALL = 1_800_000_000.0


class FakeClock:
    def __init__(self):
        self.mono = 100.0
        self.wall = START_WALL

    def monotonic(self):
        return self.mono

    def time(self):
        return self.wall

    def advance(self, seconds):
        self.mono += seconds
        self.wall += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def kiosk(clock):
    state = KioskState(clock)
    state.connected()
    state.tick()                      # the first heartbeat goes out at once
    state.handle_message({'action': 'sync', 'statut': 'disponible', 'session': None,
                          'temps_restant': None})
    return state


def sent(effects):
    return [effect[1] for effect in effects if effect[0] == SEND]


def kinds(effects):
    return [effect[0] for effect in effects]


def start(state, code='ABC234', left=1800):
    state.submit_code(code)
    return state.handle_message({'action': 'session_started', 'temps_restant': left,
                                 'session': {'id': 7, 'code_acces': code}})


def test_a_code_is_sent_cleaned_and_the_entry_waits_for_the_answer(kiosk):
    assert kiosk.locked and kiosk.can_enter_code
    effects = kiosk.submit_code(' abc-234 ')
    assert sent(effects) == [{'type': 'validate_code', 'code': 'ABC234'}]
    assert kiosk.waiting_answer and not kiosk.can_enter_code
    assert kiosk.submit_code('ABC234') == []          # no second try while the first is pending


def test_a_code_of_the_wrong_length_is_not_sent(kiosk):
    assert kiosk.submit_code('ABC') == []
    assert kiosk.feedback == ('Le code comporte 6 caractères.', True)
    assert kiosk.can_enter_code


def test_session_started_unlocks_keeps_the_session_and_counts_down(kiosk, clock):
    effects = start(kiosk, left=1800)
    assert not kiosk.locked and kiosk.code == 'ABC234'
    assert effects == [(SAVE, 'ABC234', START_WALL + 1800)]
    assert kiosk.remaining() == 1800
    clock.advance(0.4)
    assert kiosk.remaining() == 1800                   # rounded up, as the server does
    clock.advance(99.6)
    assert kiosk.remaining() == 1700
    assert format_remaining(kiosk.remaining()) == '28:20'


def test_unknown_code_shows_the_servers_words(kiosk):
    kiosk.submit_code('ZZZ999')
    kiosk.handle_message({'action': 'code_invalid', 'detail': 'Code inconnu ou expiré.'})
    assert kiosk.locked and not kiosk.waiting_answer
    assert kiosk.feedback == ('Code inconnu ou expiré.', True)
    assert kiosk.can_enter_code


def test_code_invalid_without_detail_says_unknown_code(kiosk):
    kiosk.submit_code('ZZZ999')
    kiosk.handle_message({'action': 'code_invalid'})
    assert kiosk.feedback == ('Code inconnu ou expiré', True)


def test_too_many_attempts(kiosk):
    kiosk.submit_code('ZZZ999')
    kiosk.handle_message({'action': 'code_invalid', 'retry_after': 60,
                          'detail': 'Trop de codes erronés. Patientez avant de réessayer.'})
    assert kiosk.feedback == ("Trop d'essais : patientez une minute", True)


def test_feedback_goes_back_to_the_invitation_after_a_while(kiosk, clock):
    kiosk.submit_code('ZZZ999')
    kiosk.handle_message({'action': 'code_invalid', 'detail': 'Code inconnu ou expiré.'})
    clock.advance(29)
    kiosk.tick()
    assert kiosk.feedback[1] is True
    clock.advance(1)
    kiosk.tick()
    assert kiosk.feedback == ("Entrez le code remis à l'accueil", False)


def test_no_answer_to_a_code_frees_the_entry(kiosk, clock):
    kiosk.submit_code('ABC234')
    clock.advance(9.9)
    kiosk.tick()
    assert kiosk.waiting_answer
    clock.advance(0.1)
    kiosk.tick()
    assert not kiosk.waiting_answer and kiosk.can_enter_code
    assert kiosk.feedback == ('Le serveur ne répond pas : réessayez dans un instant.', True)


def test_no_code_entry_while_the_server_is_unreachable(kiosk):
    kiosk.disconnected()
    assert kiosk.link_text == 'Serveur injoignable : nouvelle tentative…'
    assert not kiosk.can_enter_code
    assert kiosk.submit_code('ABC234') == []


def test_link_text_names_a_refusal(clock):
    state = KioskState(clock)
    assert state.link_text == 'Connexion au serveur…'
    state.disconnected(4404)
    assert 'pas enregistré' in state.link_text
    state.disconnected(4403)
    assert "pas autorisé" in state.link_text
    state.connected()
    assert state.link_text is None


def test_maintenance_disables_code_entry(kiosk):
    kiosk.handle_message({'action': 'sync', 'statut': 'maintenance', 'session': None,
                          'temps_restant': None})
    assert kiosk.feedback == ('Ce poste est en maintenance.', False)
    assert not kiosk.can_enter_code


def test_heartbeats_every_five_seconds_idle_then_with_time_and_code(kiosk, clock):
    clock.advance(4.9)
    assert sent(kiosk.tick()) == []
    clock.advance(0.1)
    assert sent(kiosk.tick()) == [{'type': 'heartbeat'}]
    start(kiosk, left=600)
    clock.advance(5)
    assert sent(kiosk.tick()) == [{'type': 'heartbeat', 'temps_restant': 595, 'code': 'ABC234'}]
    clock.advance(2)
    assert sent(kiosk.tick()) == []


def test_no_heartbeat_while_disconnected_and_one_at_once_on_reconnect(kiosk, clock):
    kiosk.disconnected()
    clock.advance(20)
    assert sent(kiosk.tick()) == []
    kiosk.connected()
    assert sent(kiosk.tick()) == [{'type': 'heartbeat'}]


def test_warning_is_shown_and_takes_the_servers_figure(kiosk, clock):
    start(kiosk, left=400)
    clock.advance(97)                                  # our clock ran a little slow: 303 left here
    effects = kiosk.handle_message({'action': 'warning', 'temps_restant': 300,
                                    'message': 'Il vous reste 5 minutes.'})
    assert kiosk.notice == 'Il vous reste 5 minutes.'
    assert kiosk.remaining() == 300
    assert effects == [(SAVE, 'ABC234', clock.wall + 300)]
    clock.advance(30)
    kiosk.tick()
    assert kiosk.notice is None                        # it hides itself


def test_warning_without_message_builds_one(kiosk):
    start(kiosk, left=100)
    kiosk.handle_message({'action': 'warning', 'temps_restant': 60})
    assert kiosk.notice == 'Il vous reste 1 minute.'


def test_add_time_updates_the_countdown(kiosk, clock):
    start(kiosk, left=300)
    clock.advance(100)
    effects = kiosk.handle_message({'action': 'add_time', 'seconds': 600, 'temps_restant': 800})
    assert kiosk.remaining() == 800
    assert kiosk.notice == 'Temps ajouté : 10 minutes.'
    assert effects == [(SAVE, 'ABC234', clock.wall + 800)]


def test_close_session_locks_forgets_and_runs_the_end_command(kiosk):
    start(kiosk)
    effects = kiosk.handle_message({'action': 'close_session', 'raison': 'fermeture_staff'})
    assert kiosk.locked and kiosk.remaining() == 0
    assert effects == [(FORGET,), (END_COMMAND,)]
    assert kiosk.feedback == ("Votre session a été fermée par l'accueil.", False)
    # Said again (the heartbeat of an ended code): nothing more to do.
    assert kiosk.handle_message({'action': 'close_session', 'raison': 'fermeture_staff'}) == []


def test_zero_locks_by_itself_even_disconnected(kiosk, clock):
    start(kiosk, left=120)
    kiosk.disconnected()
    clock.advance(119.5)
    assert kinds(kiosk.tick()) == []
    assert not kiosk.locked
    clock.advance(0.5)
    assert kinds(kiosk.tick()) == [FORGET, END_COMMAND]
    assert kiosk.locked
    assert kiosk.feedback == ('Votre session est terminée. Merci de votre visite !', False)


def test_countdown_continues_offline_and_takes_the_servers_figure_back(kiosk, clock):
    start(kiosk, left=1800)
    kiosk.disconnected()
    clock.advance(600)
    assert kiosk.remaining() == 1200
    kiosk.connected()
    kiosk.handle_message({'action': 'sync', 'statut': 'occupe', 'temps_restant': 1500,
                          'session': {'code_acces': 'ABC234'}})   # staff added 5 min meanwhile
    assert kiosk.remaining() == 1500 and not kiosk.locked


def test_sync_without_session_locks_a_session_ended_while_offline(kiosk):
    start(kiosk)
    kiosk.disconnected()
    kiosk.connected()
    effects = kiosk.handle_message({'action': 'sync', 'statut': 'disponible', 'session': None,
                                    'temps_restant': None})
    assert kiosk.locked and kinds(effects) == [FORGET, END_COMMAND]


def test_sync_with_a_session_unlocks_a_locked_kiosk(kiosk):
    effects = kiosk.handle_message({'action': 'sync', 'statut': 'occupe', 'temps_restant': 900,
                                    'session': {'code_acces': 'QWE345'}})
    assert not kiosk.locked and kiosk.code == 'QWE345'
    assert kinds(effects) == [SAVE]


def test_end_session_locks_at_once_and_tells_the_server(kiosk):
    start(kiosk)
    effects = kiosk.end_session()
    assert effects == [(SEND, {'type': 'end_session'}), (FORGET,), (END_COMMAND,)]
    assert kiosk.locked
    assert kiosk.feedback == ('Session terminée. À bientôt !', False)
    assert kiosk.end_session() == []


def test_a_session_ended_offline_is_not_resumed_but_ended_on_the_server(kiosk):
    start(kiosk)
    kiosk.disconnected()
    assert kinds(kiosk.end_session()) == [FORGET, END_COMMAND]       # nothing can be sent now
    kiosk.connected()
    effects = kiosk.handle_message({'action': 'sync', 'statut': 'occupe', 'temps_restant': 1000,
                                    'session': {'code_acces': 'ABC234'}})
    assert effects == [(SEND, {'type': 'end_session'})]
    assert kiosk.locked


def test_resume_goes_on_from_the_kept_deadline_and_re_presents_the_code(clock):
    state = KioskState(clock)
    assert state.resume('ABC234', START_WALL + 700) == []
    assert not state.locked and state.remaining() == 700
    effects = state.connected()
    assert sent(effects) == [{'type': 'validate_code', 'code': 'ABC234'}]
    state.handle_message({'action': 'session_started', 'temps_restant': 650,
                          'session': {'code_acces': 'ABC234'}})
    assert state.remaining() == 650
    state.disconnected()
    assert sent(state.connected()) == []               # answered: not presented again


def test_resume_of_a_session_ended_meanwhile_locks(clock):
    state = KioskState(clock)
    state.resume('ABC234', START_WALL + 700)
    state.connected()
    effects = state.handle_message({'action': 'code_invalid', 'detail': 'Code inconnu ou expiré.'})
    assert state.locked and kinds(effects) == [FORGET, END_COMMAND]


def test_resume_answered_by_sync_first_shows_no_code_error(clock):
    state = KioskState(clock)
    state.resume('ABC234', START_WALL + 700)
    state.connected()
    state.handle_message({'action': 'sync', 'statut': 'disponible', 'session': None,
                          'temps_restant': None})
    assert state.locked
    assert state.handle_message({'action': 'code_invalid', 'detail': 'Code inconnu ou expiré.'}) == []
    assert state.feedback == ('Session terminée.', False)


def test_resume_past_the_deadline_locks_at_once(clock):
    state = KioskState(clock)
    assert kinds(state.resume('ABC234', START_WALL - 5)) == [FORGET, END_COMMAND]
    assert state.locked


def test_unknown_and_malformed_messages_change_nothing(kiosk):
    start(kiosk, left=600)
    assert kiosk.handle_message({'action': 'dance'}) == []
    assert kiosk.handle_message({'no': 'action'}) == []
    assert kiosk.handle_message({'action': 'add_time', 'temps_restant': 'beaucoup'}) == []
    assert kiosk.handle_message({'action': 'warning', 'temps_restant': True}) == []
    assert kiosk.remaining() == 600 and not kiosk.locked


@pytest.mark.parametrize('seconds, text', [
    (0, '00:00'), (59, '00:59'), (600, '10:00'), (3599, '59:59'), (3600, '1:00:00'),
    (86399, '23:59:59')])
def test_format_remaining(seconds, text):
    assert format_remaining(seconds) == text


@pytest.mark.parametrize('seconds, text', [
    (20, "moins d'une minute"), (60, '1 minute'), (300, '5 minutes'), (600, '10 minutes')])
def test_minutes_text(seconds, text):
    assert minutes_text(seconds) == text


def test_a_session_field_of_the_wrong_type_is_ignored(kiosk):
    assert kiosk.handle_message({'action': 'sync', 'statut': 'occupe', 'temps_restant': 60,
                                 'session': ['ABC234']}) == []
    assert kiosk.locked
