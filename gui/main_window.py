"""The main window: puts the widgets together and connects them to the model and the workers.

Layout: left, the canvas with its pen controls and the prediction; right, the network's
filters and feature maps above tabs for Training, Results and Teach.
"""
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog, QFrame, QHBoxLayout, QLabel, QMainWindow, QMessageBox, QScrollArea, QSlider, QSplitter, QTabWidget,
    QToolButton, QVBoxLayout, QWidget,
)

from core.data import mnist_problem
from core.dataset_choice import DatasetChoice
from core.errors import ModelFileError
from gui.views.canvas import PEN_WIDTH_RANGE, DrawingCanvas
from gui.background.download import DownloadController
from gui.live_prediction import LivePredictor
from gui.model_session import ModelSession, file_session, fresh_session, pretrained_session, startup_session
from gui.views.network_view import FeatureMapView, InputView
from gui.views.curve_marks import CurveMarks
from gui.views.drawing_history import DrawingHistoryChart
from gui.views.filter_board import FilterBoard
from gui.views.time_machine import TimeMachineBar
from gui.panels.watch_controls import CONTINUE, PaceControls, StartChoice
from gui.run_watch import RunWatch
from core.network import CNN
from gui.views.prediction_view import PredictionView
from gui.views.results import ResultsView
from gui.settings import make_settings, read_int, take_settings_notice
from gui.panels.teach import DIGIT_KEYS, TeachPanel
from gui.panels.training_panel import TrainingPanel
from gui.panels.why import WhyPanel
from gui.views.arithmetic import Selection
from gui.shortcuts_dialog import ShortcutsDialog
from gui.training.controller import TrainingController
from gui.training.messages import Result, State

MODEL_FILES = "digitpad models (*.npz);;All files (*)"
WINDOW_TITLE = "Handwritten digit recognition"
TABS_MIN_HEIGHT = 330     # the Training tab's controls and a strip of its curves, at the smallest window
JOIN_TIMEOUT_MS = 1000
LAST_JOIN_TIMEOUT_MS = 15000   # a training process that outlived SIGKILL (stuck in the kernel) gets this much more
DOWNLOAD_JOIN_MS = 300    # a download notices Cancel within one 64 KB chunk; a stuck one is abandoned


def _action(parent, text: str, shortcuts, tip: str, slot) -> QAction:
    action = QAction(text, parent)
    keys = [QKeySequence(s) for s in ([shortcuts] if isinstance(shortcuts, str) else shortcuts)]
    action.setShortcuts(keys)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    names = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
    action.setToolTip(f"{tip} ({names})" if names else tip)
    action.setStatusTip(tip)
    action.triggered.connect(slot)
    parent.addAction(action)            # shortcuts work even when no menu shows the action
    return action


def _scrolling(page: QWidget) -> QScrollArea:
    """The page scrolls up and down when the window is short; it never scrolls sideways: the
    area is at least as wide as the page can shrink, so the splitter stops before clipping it."""
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumWidth(page.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width())
    return area


class MainWindow(QMainWindow):
    """digitpad's window. `canvas` is the drawing widget; `prediction()` the current answer."""

    def __init__(self):
        super().__init__()
        self.setWindowTitle(WINDOW_TITLE)   # Qt appends the application's display name, "digitpad"
        self.settings = make_settings()
        self.session, startup_problem = startup_session()

        self.training = TrainingController(self)
        self._drawing_shown = None             # the network input last given to the drawing's chart
        self._new_session = None               # "New network": installed when its run sends its first weights
        self.download = DownloadController(self)
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._lay_out()
        self._connect()
        self._restore_settings()

        self._refresh_mnist_state()
        self._install_session(self.session)
        self.canvas.setFocus()
        notices = [text for text in (startup_problem, take_settings_notice()) if text]
        if notices:
            self.statusBar().showMessage(" ".join(notices))

    # ---- public API (tests, tools) ----------------------------------------------------------
    def prediction(self):
        """(digit, probabilities (10,)) for the drawing, or None when nothing is drawn."""
        latest = self.predictor.latest()
        return None if latest is None else (latest.digit, latest.probabilities.copy())

    @property
    def model(self):
        return self.session.model

    # ---- construction -----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.canvas = DrawingCanvas()
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(*PEN_WIDTH_RANGE)
        self.pen_slider.setValue(self.canvas.pen_width())
        self.pen_slider.setToolTip("Pen width ([ thinner, ] thicker)")
        self.pen_label = QLabel()
        self.prediction_view = PredictionView()
        self.input_view = InputView()
        self.filter_view = FilterBoard()               # the filters, large, with their change since the run began
        self.feature_view = FeatureMapView(columns=4)
        self.training_panel = TrainingPanel()
        self._build_watch_widgets()
        self.results_view = ResultsView()              # filled after each training run
        self.teach_panel = TeachPanel()                # the user's own handwriting set
        self.tabs = QTabWidget()
        # Scroll areas let every page shrink to fit a 1024x768 screen.
        self.tabs.addTab(_scrolling(self.training_panel), "&Training")
        self.tabs.addTab(_scrolling(self.results_view), "&Results")
        self.tabs.addTab(_scrolling(self.teach_panel), "T&each it")
        self.tabs.setMinimumHeight(TABS_MIN_HEIGHT)
        self.tabs.setTabToolTip(0, "Train the network and watch it learn (Ctrl+1)")
        self.tabs.setTabToolTip(1, "Confusion matrix and the most confident mistakes on the test set (Ctrl+2)")
        self.tabs.setTabToolTip(2, "Correct the network with your own handwriting (Ctrl+3)")
        self.why_panel = WhyPanel()                    # the network's arithmetic and evidence
        self.why_tab = self.tabs.addTab(_scrolling(self.why_panel), "See &why")
        self.tabs.setTabToolTip(self.why_tab, "How the network reached its answer on your drawing (Ctrl+4)")
        self.predictor = LivePredictor(self.canvas, self.session.model, parent=self)
        self.model_label = QLabel()
        self.statusBar().addPermanentWidget(self.model_label)

    def _build_watch_widgets(self) -> None:
        """Watch it learn: start choice and seed, pace, time machine, the drawing through the run."""
        self.start_choice = StartChoice(self)
        self.start_choice.place_in(self.training_panel.start_row)      # [New network ▾] Seed [0], above Train:
        self.training_panel.start_row.addStretch(1)                    # one row would clip it at the minimum size
        self.pace = PaceControls()
        self.time_bar = TimeMachineBar()
        self.drawing_chart = DrawingHistoryChart()
        self.curve_marks = CurveMarks(self.training_panel.curves)
        self.watch = RunWatch(self.time_bar, self.filter_view, self.drawing_chart, self.curve_marks, parent=self)
        self.training_panel.lr_spin.setKeyboardTracking(False)    # typing "0.05" sends 0.05, not 0.0 first
        self.training_panel.lr_spin.setToolTip("Step size of gradient descent (decays along a cosine to 0); "
                                               "change it while training to see what it does")

    def _build_actions(self) -> None:
        c = self.canvas
        self.undo_action = _action(self, "&Undo stroke", "Ctrl+Z", "Remove the last stroke", c.undo)
        self.clear_action = _action(self, "&Clear", "Esc", "Clear the drawing (Esc, or Delete on the canvas)",
                                    c.clear)
        self.thinner_action = _action(self, "T&hinner pen", "[", "Make the pen thinner",
                                      lambda: c.set_pen_width(c.pen_width() - 2))
        self.thicker_action = _action(self, "T&hicker pen", "]", "Make the pen thicker",
                                      lambda: c.set_pen_width(c.pen_width() + 2))
        self.new_action = _action(self, "&New model", "Ctrl+N", "Start over with random weights",
                                  self.new_model)
        self.open_action = _action(self, "&Open model…", "Ctrl+O", "Load a model saved earlier",
                                   self.choose_model_to_open)
        self.save_action = _action(self, "&Save model as…", ["Ctrl+S", "Ctrl+Shift+S"],
                                   "Save the current weights to a file", self.choose_file_to_save)
        self.revert_action = _action(self, "&Revert to pretrained", "Ctrl+R",
                                     "Go back to the model that ships with digitpad", self.revert_to_pretrained)
        self.quit_action = _action(self, "&Quit", "Ctrl+Q", "Close digitpad", self.close)
        self.help_action = _action(self, "&Keyboard shortcuts", "F1", "List the keyboard shortcuts",
                                   self.show_shortcuts)
        self.tab_actions = [
            _action(self, f"Show {name}", f"Ctrl+{i + 1}", f"Show the {name} tab",
                    lambda _=False, i=i: self.tabs.setCurrentIndex(i))
            for i, name in enumerate(("Training", "Results", "Teach it", "See why"))
        ]
        panel = self.training_panel
        for action in (panel.train_action, panel.pause_action, panel.stop_action, panel.download_action,
                       panel.cancel_download_action, self.pace.step_action):
            self.addAction(action)
        # Delete clears only while the canvas side has focus, so lists elsewhere keep their Delete key.
        self._delete_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.canvas, c.clear,
                                          context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&Model")
        for action in (self.new_action, self.open_action, self.save_action, self.revert_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = menus.addMenu("&Drawing")
        for action in (self.undo_action, self.clear_action, self.thinner_action, self.thicker_action):
            edit_menu.addAction(action)
        panel = self.training_panel
        train_menu = menus.addMenu("&Training")
        for action in (panel.train_action, panel.pause_action, self.pace.step_action, panel.stop_action):
            train_menu.addAction(action)
        train_menu.addSeparator()
        train_menu.addAction(panel.download_action)
        train_menu.addAction(panel.cancel_download_action)
        view_menu = menus.addMenu("&View")
        for action in self.tab_actions:
            view_menu.addAction(action)
        help_menu = menus.addMenu("&Help")
        help_menu.addAction(self.help_action)
        for menu in (file_menu, edit_menu, train_menu, view_menu, help_menu):
            menu.setToolTipsVisible(True)

    def _lay_out(self) -> None:
        pen_row = QHBoxLayout()
        pen_row.addWidget(QLabel("Pen"))
        pen_row.addWidget(self.pen_slider, 1)
        pen_row.addWidget(self.pen_label)
        for action in (self.undo_action, self.clear_action):
            button = QToolButton()
            button.setDefaultAction(action)
            pen_row.addWidget(button)
        answer_row = QHBoxLayout()
        answer_row.addWidget(self.prediction_view, 1)
        answer_row.addWidget(self.input_view)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.canvas, 1)
        left_layout.addLayout(pen_row)
        left_layout.addLayout(answer_row)
        left_layout.addWidget(self.drawing_chart)
        self.prediction_view.setMaximumHeight(180)
        self.input_view.setMaximumHeight(180)
        self.drawing_chart.setFixedHeight(170)
        self.input_view.setFixedWidth(max(130, self.input_view.minimumSizeHint().width()))   # title whole

        network = QWidget()
        network_layout = QHBoxLayout(network)
        network_layout.setContentsMargins(0, 0, 0, 0)
        network_layout.addWidget(self.filter_view, 2)
        network_layout.addWidget(self.feature_view, 1)
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(network)
        self.right_splitter.addWidget(self.tabs)
        self.right_splitter.setStretchFactor(1, 1)
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(left)
        self.main_splitter.addWidget(self.right_splitter)
        self.main_splitter.setStretchFactor(0, 5)
        self.main_splitter.setStretchFactor(1, 6)
        strip = QHBoxLayout()                  # pace and time machine, under both halves
        strip.setContentsMargins(0, 0, 0, 0)
        strip.addWidget(self.pace)
        strip.addWidget(self.time_bar, 1)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.main_splitter, 1)
        central_layout.addLayout(strip)
        self.setCentralWidget(central)

    def _connect(self) -> None:
        self.canvas.changed.connect(self.predictor.schedule)
        self.canvas.edited.connect(self._drawing_edited)
        self.canvas.penWidthChanged.connect(self._pen_width_changed)
        self.pen_slider.valueChanged.connect(self.canvas.set_pen_width)
        self.predictor.updated.connect(self._show_prediction)
        self.results_view.digitChosen.connect(self._put_on_canvas)
        self.teach_panel.samplesChanged.connect(lambda: self.teach_panel.update_score(self.model))
        self._connect_why()
        self.teach_panel.sampleAdded.connect(self._sample_stored)

        panel = self.training_panel
        panel.train_action.triggered.connect(self.start_training)
        panel.pause_action.triggered.connect(self.training.toggle_pause)
        panel.stop_action.triggered.connect(self.training.stop)
        panel.download_action.triggered.connect(self.start_download)
        panel.cancel_download_action.triggered.connect(self.download.cancel)
        self.training.stateChanged.connect(self._training_state_changed)
        self.training.progressed.connect(panel.show_progress)
        self.training.paramsUpdated.connect(self._training_params)
        self.training.tested.connect(self._show_test_results)
        self.training.failed.connect(self._training_failed)
        self.training.finished.connect(self._training_finished)
        self.download.busyChanged.connect(panel.set_downloading)
        self.download.progressed.connect(panel.show_download_progress)
        self.download.finished.connect(self._download_finished)
        self.pace.step_action.triggered.connect(self.step_training)
        self.pace.speedChanged.connect(self.training.set_speed)
        self.pace.speedChanged.connect(panel.set_pace)                 # slow motion's time left
        panel.lr_spin.valueChanged.connect(self._learning_rate_changed)
        self.training.snapshotsRecorded.connect(self._training_snapshots)
        self.training.gradientsUpdated.connect(self.watch.set_gradients)
        self.watch.networkChanged.connect(self._show_network)

    def _connect_why(self) -> None:
        why = self.why_panel
        self.feature_view.grid.pixelClicked.connect(
            lambda f, row, col: self._show_why(Selection("conv", f, row, col)))
        self.prediction_view.digitClicked.connect(lambda d: self._show_why(Selection("score", d)))
        why.imageChosen.connect(self._put_on_canvas)
        why.modelEdited.connect(self._model_edited_in_lab)
        why.arithmetic.selectionChanged.connect(     # the feature-map pixel being explained, outlined
            lambda sel: self.feature_view.grid.set_highlight(sel.index if sel.kind == "conv" else None,
                                                              sel.row, sel.col))
        self.teach_panel.samplesChanged.connect(self._own_samples_changed)
        self._own_samples_changed()

    def _show_why(self, selection) -> None:
        self.tabs.setCurrentIndex(self.why_tab)
        self.why_panel.show_arithmetic(selection)

    def _own_samples_changed(self) -> None:
        dataset = self.teach_panel.dataset
        self.why_panel.set_own_samples(dataset.images, dataset.labels)
        self._own_samples_to_results()

    def _own_samples_to_results(self) -> None:
        """A confusion-matrix cell lists the user's samples too, as the model reads them now."""
        dataset = self.teach_panel.dataset
        self.results_view.set_own_samples(dataset.images, dataset.labels, lambda images: self.model.predict(images))

    def _model_edited_in_lab(self) -> None:
        self.session.unsaved = True
        self.filter_view.set_filters(self.model.params["conv.filters"])
        self.predictor.update_now()
        self._show_model_label()

    # ---- drawing and prediction -------------------------------------------------------------
    def _drawing_edited(self) -> None:
        self.predictor.update_now()
        latest = self.predictor.latest()
        if latest is None:
            self.teach_panel.set_current_image(None)
        else:
            confidence = float(latest.probabilities[latest.digit])
            self.teach_panel.set_current_image(latest.drawn, latest.digit, confidence)   # kept as drawn: any network reads it

    def _show_prediction(self, prediction) -> None:
        if prediction is None:
            self.prediction_view.set_probabilities(None)
            self.input_view.set_image(None)
            self.feature_view.set_feature_maps(None)
        else:
            self.prediction_view.set_probabilities(prediction.probabilities)
            self.input_view.set_image(prediction.image)
            self.feature_view.set_feature_maps(prediction.feature_maps)
        shown = self.predictor.model                  # the live network, or the time machine's snapshot
        self.why_panel.show_state(shown, None if prediction is None else prediction.image)
        self._drawing_may_have_changed(None if prediction is None else prediction.image)

    def _pen_width_changed(self, width: int) -> None:
        self.pen_slider.setValue(width)
        self.pen_label.setText(f"{width:>2}")

    def _put_on_canvas(self, image) -> None:
        self.canvas.set_image(image)
        self.canvas.setFocus()

    def _sample_stored(self, digit: int) -> None:
        """The drawing is in the handwriting set now: a clean pad for the next one."""
        self.canvas.clear()
        self.canvas.setFocus()

    def keyPressEvent(self, event):
        """Digit keys not used by a focused widget teach the drawing as that digit."""
        digit = DIGIT_KEYS.get(event.key())
        if digit is not None and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            if self.teach_panel.add_current(digit):
                self.tabs.setCurrentIndex(2)
                return
        super().keyPressEvent(event)

    # ---- models -----------------------------------------------------------------------------
    def _install_session(self, session: ModelSession) -> None:
        self.session = session
        self.statusBar().clearMessage()
        self.watch.begin_run()                        # the time machine's run belonged to the old model
        self.predictor.set_model(session.model)
        self.filter_view.set_filters(session.model.params["conv.filters"])
        self.results_view.clear()
        self.teach_panel.update_score(session.model)
        self._show_model_label()

    def _show_model_label(self) -> None:
        star = " (trained, not saved)" if self.session.unsaved else ""
        self.model_label.setText(f"Model: {self.session.description}{star}")

    def _discard_unsaved_ok(self, what: str, hint: str = "") -> bool:
        """True when trained, unsaved weights may be replaced: saved first, or let go on purpose."""
        if not self.session.unsaved:
            return True
        answer = ask_save_unsaved(self, f"Save them before you {what}? {hint}".strip())
        return answer == "discard" or (answer == "save" and self.choose_file_to_save())

    def new_model(self) -> None:
        if self._discard_unsaved_ok("start a new model"):
            self._install_session(fresh_session())
            self.statusBar().showMessage("New model with random weights: train it to make it useful.", 5000)

    def revert_to_pretrained(self) -> None:
        if not self._discard_unsaved_ok("go back to the pretrained model"):
            return
        try:
            self._install_session(pretrained_session())
        except ModelFileError as error:
            self._show_error("Cannot load the pretrained model", f"{error}\n\nThe current model is kept.")

    def choose_model_to_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._model_folder(), MODEL_FILES)
        if path and self._discard_unsaved_ok("open another model"):
            self.open_model(path)

    def open_model(self, path) -> bool:
        """Load a model file; on failure show why and keep the current model."""
        try:
            session = file_session(path)
        except ModelFileError as error:
            self._show_error("Cannot open the model", f"{error}\n\nThe current model is kept.")
            return False
        self._install_session(session)
        self.start_choice.set_start(CONTINUE)       # an opened model is there to be used, not replaced
        self.settings.setValue("model/folder", str(path))
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def choose_file_to_save(self) -> bool:
        """Ask where, then save; True when the model was saved."""
        path, _ = QFileDialog.getSaveFileName(self, "Save model as", self._model_folder(), MODEL_FILES)
        return bool(path) and self.save_model(path if path.endswith(".npz") else path + ".npz")

    def save_model(self, path) -> bool:
        try:
            self.model.save(path)
        except ModelFileError as error:
            self._show_error("Cannot save the model", str(error))
            return False
        self.session = replace(self.session, description=Path(path).name, unsaved=False)
        self.settings.setValue("model/folder", str(path))
        self._show_model_label()
        self.statusBar().showMessage(f"Saved the model to {path}", 5000)
        return True

    def _model_folder(self) -> str:
        """Where the last model was opened or saved; at first the home folder, not wherever the app started."""
        value = self.settings.value("model/folder", "")
        return value if isinstance(value, str) and value else str(Path.home())

    def _show_error(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message.split("\n")[0], 10000)
        QMessageBox.warning(self, title, message)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every keyboard shortcut of the window, in menu order."""
        rows = [(", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts()),
                 a.statusTip()) for a in self.actions() if not a.shortcut().isEmpty()]
        rows.append(("Delete", "Clear the drawing (while the pad has focus)"))
        rows.append(("0 … 9", "Teach it: store the drawing as that digit"))
        return rows

    def shortcuts_dialog(self) -> ShortcutsDialog:
        return ShortcutsDialog(self.shortcut_rows(), self)

    def show_shortcuts(self) -> None:
        self.shortcuts_dialog().exec()

    # ---- training ---------------------------------------------------------------------------
    def start_training(self, paused: bool = False) -> bool:
        """Train with the panel's settings (from random weights when "New network" is chosen).
        paused: start held before the first step (Step from idle). False when the user cancelled."""
        panel = self.training_panel
        seed = self.start_choice.seed()
        self._new_session = None
        if self.start_choice.starts_fresh():
            if not self._discard_unsaved_ok("start a new network from random weights",
                                            'Or choose "Continue this model" to train them further.'):
                return False
            self._new_session = fresh_session(seed)     # shown once training begins: a failed start keeps the old
        model = self.model if self._new_session is None else self._new_session.model
        config = replace(panel.config(), seed=seed)
        personal = None
        if self.teach_panel.mix_into_training:
            dataset = self.teach_panel.dataset
            personal = (dataset.images.copy(), dataset.labels.copy())
        data = DatasetChoice(panel.source(), panel.train_size(), personal=personal)   # loaded by the training process
        panel.start_run()
        panel.set_pace(self.pace.steps_per_s())
        self.statusBar().clearMessage()
        self.results_view.clear()
        self.watch.begin_run()
        self.training.start(model.copy(), config, data,
                            paused=paused, steps_per_s=self.pace.steps_per_s())
        return True

    def step_training(self) -> None:
        """Exactly one batch: from a paused run, or from idle (a run that starts paused)."""
        if self.training.state() == State.IDLE and not self.start_training(paused=True):
            return
        self.training.step()

    def _learning_rate_changed(self, rate: float) -> None:
        if self.training.state() in (State.RUNNING, State.PAUSED):
            self.training.set_learning_rate(rate)
            self.watch.mark_learning_rate(rate)
            self.statusBar().showMessage(f"Learning rate {rate:g} from the next step on", 4000)

    def _show_network(self, params) -> None:
        """Show a snapshot's network everywhere (time machine), or the live one (params None)."""
        if params is None:
            model = self.model
        else:
            model = CNN(num_filters=params["conv.filters"].shape[0], dtype=self.model.dtype, deskew=self.model.deskew)
            model.set_params(params)
        self.filter_view.set_filters(model.params["conv.filters"])
        self.predictor.set_model(model)
        self.why_panel.model_changed()               # its digit weights and evidence follow the step shown
        self.why_panel.set_training(params is not None or self.training.is_busy())   # no lab edits on a snapshot

    def _drawing_may_have_changed(self, image) -> None:
        if image is None or self._drawing_shown is None or not np.array_equal(image, self._drawing_shown):
            self._drawing_shown = None if image is None else image
            self.watch.set_drawing(image)

    def _training_state_changed(self, state: State) -> None:
        self.training_panel.set_training_state(state)
        self.training_panel.lr_spin.setEnabled(state != State.STOPPING)    # changeable while training runs
        self.start_choice.set_training_state(state)
        self.pace.set_training_state(state)
        idle = state == State.IDLE
        for action in (self.new_action, self.open_action, self.revert_action):
            action.setEnabled(idle)
        self.why_panel.set_training(not idle)

    def _training_snapshots(self, records) -> None:
        self._show_new_network()
        self.watch.add_snapshots(records)

    def _show_new_network(self) -> None:
        if self._new_session is not None:               # the new network's first weights: show it from now on
            session, self._new_session = self._new_session, None
            self._install_session(session)

    def _training_params(self, params) -> None:
        self._show_new_network()
        self.model.set_params(params)
        self.session.unsaved = True
        if self.time_bar.is_live():                  # else the views show the time machine's snapshot
            self.filter_view.set_filters(self.model.params["conv.filters"])
            self.why_panel.model_changed()
            self.predictor.update_now()
        self._show_model_label()

    def _show_test_results(self, results) -> None:
        self.results_view.show_results(results.images, results.labels, results.probabilities)

    def _training_failed(self, message: str) -> None:
        self.training_panel.show_outcome("Training failed: see the message.")
        self._show_error("Training stopped", message)

    def _training_finished(self, result: Result) -> None:
        self.teach_panel.update_score(self.model)
        if self._new_session is None:                # the run's network is "this model" now: Train goes on with it
            self.start_choice.set_start(CONTINUE)
            if result != Result.FAILED:
                self.statusBar().showMessage('Train again continues this model; choose "New network" to '
                                             'start over.', 8000)
        self._new_session = None                     # a run that never began leaves the old model in place
        if result == Result.FINISHED:
            self.training_panel.show_outcome("Training finished. Save the model to keep it (Ctrl+S).")
        elif result == Result.STOPPED:
            self.training_panel.show_outcome("Training stopped; the weights learnt so far are kept.")

    # ---- downloading ------------------------------------------------------------------------
    def start_download(self) -> None:
        self.download.start()

    def _refresh_mnist_state(self) -> bool:
        """Offer full MNIST when its four files verify; otherwise say what is wrong. True if offered."""
        problem = mnist_problem()
        self.training_panel.set_mnist_available(problem is None)
        if problem:
            self.training_panel.show_download_message(problem)
        return problem is None

    def _download_finished(self, outcome: str, message: str) -> None:
        """The outcome in one line in the Data box (a failure's details behind its Details button)."""
        available = self._refresh_mnist_state()
        if outcome == "failed":
            self.training_panel.show_download_message(message, "Download failed")
        elif outcome == "cancelled" or available:   # else keep saying why the files still cannot be used
            self.training_panel.show_download_message(message)
        if available:
            self.training_panel.source_combo.setCurrentIndex(1)

    # ---- settings and closing ---------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 860)
            self.main_splitter.setSizes([520, 760])
            self.right_splitter.setSizes([276, 584])
        for key, splitter in (("window/main_splitter", self.main_splitter),
                              ("window/right_splitter", self.right_splitter)):
            state = s.value(key)
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        self.canvas.set_pen_width(read_int(s, "canvas/pen_width", self.canvas.pen_width()))
        self._pen_width_changed(self.canvas.pen_width())
        self.training_panel.load_settings(s)
        self.start_choice.load_settings(s)
        self.pace.load_settings(s)
        self.teach_panel.mix_into_training = bool(read_int(s, "teach/mix_into_training", 0))

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/main_splitter", self.main_splitter.saveState())
        s.setValue("window/right_splitter", self.right_splitter.saveState())
        s.setValue("canvas/pen_width", self.canvas.pen_width())
        s.setValue("teach/mix_into_training", int(self.teach_panel.mix_into_training))
        self.training_panel.save_settings(s)
        self.start_choice.save_settings(s)
        self.pace.save_settings(s)
        s.sync()

    def ask_save_before_closing(self) -> str:
        """"save", "discard" or "cancel": what to do with trained weights that are not saved."""
        return ask_save_before_closing(self)

    def closeEvent(self, event):
        if self.session.unsaved:
            answer = self.ask_save_before_closing()
            if answer == "cancel" or (answer == "save" and not self.choose_file_to_save()):
                event.ignore()     # a cancelled or failed save keeps the window, and the weights, open
                return
        self.save_settings()
        self.predictor.stop()
        training_stopped = self.training.shutdown(JOIN_TIMEOUT_MS)
        self.download.shutdown(DOWNLOAD_JOIN_MS)   # one stuck on a silent server is abandoned, not waited for
        if not training_stopped:
            self.training.shutdown(LAST_JOIN_TIMEOUT_MS)
        super().closeEvent(event)


def ask_save_unsaved(parent, question: str) -> str:
    """Save / Discard / Cancel for trained weights that are not saved: "save", "discard" or "cancel"."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent, "Save the trained model?", f"The model was trained and its weights are not saved. {question}",
        buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")


def ask_save_before_closing(parent) -> str:
    """The quit question: "save", "discard" or "cancel"."""
    return ask_save_unsaved(parent, "Save them before quitting?")
