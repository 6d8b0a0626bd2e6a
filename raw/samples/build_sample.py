"""Rebuild the Baoji big-data-centre 2023 budget disclosure as a PDF.

Source: the seed text ``/work/shared/seed/baoji-bigdata-center-2023-budget.txt``
(宝鸡市大数据管理中心 2023年单位综合预算公开, Shaanxi 15-table template).
The figures below are transcribed from that seed; where the seed's extracted
text of a table is garbled (表1, 表4, 表12) the values are reconstructed from
the other tables (see README.md in this folder).

Layout mirrors the dev corpus (cover, narrative in three parts, a landscape
catalogue page, then 表1 ... 表15 one per page with fully ruled grids,
multi-level merged headers and "第 i 页，共 n 页" footers).

Only reportlab's built-in CID font ``STSong-Light`` is used, so no font file is
needed; bold is simulated with text render mode 2 (fill + stroke).  The canvas
is created with ``invariant=1`` so every run writes the same bytes.

Run:  python raw/samples/build_sample.py   (writes next to this file)
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
OUT = HERE / "baoji-bigdata-center-2023-budget.pdf"

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

UNIT = "宝鸡市大数据管理中心"
UNIT_CODE = "621002"
YEAR = 2023
PORTRAIT = A4
LANDSCAPE = landscape(A4)


# --------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------
def D(x) -> Decimal:
    return Decimal(str(x))


def fmt(v) -> str:
    """Money cell: 2 decimals, '' for None (cell without a value)."""
    if v is None or v == "":
        return ""
    if isinstance(v, str):
        return v
    return f"{D(v):.2f}"


# --------------------------------------------------------------------------
# text helpers
# --------------------------------------------------------------------------
def sw(s: str, size: float) -> float:
    return pdfmetrics.stringWidth(s, FONT, size)


def draw_text(c, x, y, s, size, bold=False, align="l"):
    if align == "c":
        x -= sw(s, size) / 2
    elif align == "r":
        x -= sw(s, size)
    if bold:
        # STSong-Light has no bold face: fill + thin stroke (render mode 2).
        # Tr is graphics state, so scope it with q/Q.
        c.saveState()
        c.setLineWidth(size * 0.035)
    t = c.beginText(x, y)
    t.setFont(FONT, size)
    if bold:
        t.setTextRenderMode(2)
    t.textOut(s)
    c.drawText(t)
    if bold:
        c.restoreState()


# Tokens that must not be split across lines (numbers, codes, percentages).
_TOKEN = re.compile(r"[A-Za-z0-9.%\-+≥≤×~/]+|\s|.", re.S)
_NO_START = set("，。；：、）》”’！？%,.;:)]】")
_NO_END = set("（《“‘([【")


def wrap(text: str, width: float, size: float, indent: float = 0.0) -> list[str]:
    """Greedy CJK-aware wrap; '\\n' forces a break; ``indent`` shortens line 1."""
    out: list[str] = []
    for para in text.split("\n"):
        line = ""
        for tok in _TOKEN.findall(para):
            if not line and tok.isspace():
                continue
            avail = width - (indent if not out else 0.0)
            if sw(line + tok, size) <= avail or not line or tok in _NO_START:
                line += tok
                continue
            carry = ""
            if line[-1] in _NO_END and len(line) > 1:
                carry, line = line[-1], line[:-1]
            out.append(line.rstrip())
            line = carry + tok
        out.append(line.rstrip())
    return out


# --------------------------------------------------------------------------
# ruled grid with merged cells
# --------------------------------------------------------------------------
class Cell:
    __slots__ = ("r", "c", "rs", "cs", "text", "align", "bold")

    def __init__(self, r, c, text, rs=1, cs=1, align="l", bold=False):
        self.r, self.c, self.rs, self.cs = r, c, rs, cs
        self.text, self.align, self.bold = text, align, bold


class Grid:
    """A table on a regular grid; cells may span rows/columns.

    Every cell gets all four borders, so the result is fully ruled; merged
    cells simply have no internal lines.  Rows ``< header_rows`` are repeated
    on continuation pages.
    """

    def __init__(
        self, widths, size=8.0, pad=2.5, min_h=14.0, leading=None, header_rows=0, snap="header"
    ):
        self.widths = list(widths)
        # Row heights of header rows (or of all rows with snap="all") are
        # rounded up to a multiple of the leading, so that text lines of
        # neighbouring cells are either on the same baseline or at least half a
        # leading apart (pdfplumber clusters lines with y_tolerance=3 and would
        # otherwise chain wrapped header lines into one interleaved line).
        self.snap = snap
        self.size = size
        self.pad = pad
        self.min_h = min_h
        self.leading = leading or size * 1.25
        self.header_rows = header_rows
        self.cells: dict[tuple[int, int], Cell] = {}
        self.nrows = 0

    @property
    def width(self):
        return sum(self.widths)

    def add(self, r, c, text, rs=1, cs=1, align="l", bold=False):
        assert (r, c) not in self.cells, (r, c, text)
        assert c + cs <= len(self.widths), (r, c, cs, text)
        self.cells[(r, c)] = Cell(r, c, "" if text is None else str(text), rs, cs, align, bold)
        self.nrows = max(self.nrows, r + rs)

    def row(self, r, values, aligns):
        for c, (v, a) in enumerate(zip(values, aligns, strict=True)):
            if a == "r":
                v = fmt(v)
            self.add(r, c, v, align=a)

    def append(self, values, aligns):
        self.row(self.nrows, values, aligns)

    # -- geometry ---------------------------------------------------------
    def _cell_width(self, cell):
        return sum(self.widths[cell.c : cell.c + cell.cs])

    def _lines(self, cell):
        return (
            wrap(cell.text, self._cell_width(cell) - 2 * self.pad, self.size) if cell.text else []
        )

    def heights(self):
        h = [self.min_h] * self.nrows
        cells = sorted(self.cells.values(), key=lambda x: x.rs)
        for cell in cells:
            need = len(self._lines(cell)) * self.leading + 2 * self.pad
            have = sum(h[cell.r : cell.r + cell.rs])
            if need > have:
                h[cell.r + cell.rs - 1] += need - have
        last = self.nrows if self.snap == "all" else self.header_rows
        for r in range(last):
            h[r] = math.ceil(h[r] / self.leading - 1e-9) * self.leading
        return h

    def check(self):
        """Every grid slot covered exactly once."""
        cover = {}
        for cell in self.cells.values():
            for r in range(cell.r, cell.r + cell.rs):
                for c in range(cell.c, cell.c + cell.cs):
                    assert (r, c) not in cover, ("overlap", r, c, cell.text)
                    cover[(r, c)] = cell
        for r in range(self.nrows):
            for c in range(len(self.widths)):
                if (r, c) not in cover:
                    self.add(r, c, "")

    def breakable(self, b):
        return all(not (cell.r < b < cell.r + cell.rs) for cell in self.cells.values())

    def paginate(self, first_avail, next_avail):
        """Split body rows into pages -> list of (r0, r1) body row ranges."""
        h = self.heights()
        hh = sum(h[: self.header_rows])
        pages, r0, avail = [], self.header_rows, first_avail
        while r0 < self.nrows:
            used, r1, last_ok = hh, r0, None
            while r1 < self.nrows and used + h[r1] <= avail:
                used += h[r1]
                r1 += 1
                if self.breakable(r1):
                    last_ok = r1
            if r1 >= self.nrows:
                last_ok = self.nrows
            if last_ok is None or last_ok <= r0:
                raise ValueError("table row group does not fit on a page")
            pages.append((r0, last_ok))
            r0, avail = last_ok, next_avail
        return pages or [(self.header_rows, self.header_rows)]

    def draw(self, c, x0, ytop, body=None):
        """Draw header rows + body rows [r0, r1); return bottom y."""
        h = self.heights()
        r0, r1 = body if body else (self.header_rows, self.nrows)
        rows = list(range(self.header_rows)) + list(range(r0, r1))
        ypos, y = {}, ytop
        for r in rows:
            ypos[r] = y
            y -= h[r]
        ybottom = y
        xpos = [x0]
        for w in self.widths:
            xpos.append(xpos[-1] + w)

        hseg: dict[float, list] = {}
        vseg: dict[float, list] = {}
        shown = [cell for cell in self.cells.values() if cell.r in ypos]
        for cell in shown:
            xa, xb = xpos[cell.c], xpos[cell.c + cell.cs]
            ya = ypos[cell.r]
            yb = ya - sum(h[cell.r : cell.r + cell.rs])
            for yy in (ya, yb):
                hseg.setdefault(round(yy, 3), []).append((xa, xb))
            for xx in (xa, xb):
                vseg.setdefault(round(xx, 3), []).append((yb, ya))
            self._draw_cell_text(c, cell, xa, xb, ya, yb)

        c.setLineWidth(0.6)
        for yy in sorted(hseg):
            for a, b in _merge(hseg[yy]):
                c.line(a, yy, b, yy)
        for xx in sorted(vseg):
            for a, b in _merge(vseg[xx]):
                c.line(xx, a, xx, b)
        c.setLineWidth(0.5)
        return ybottom

    def _draw_cell_text(self, c, cell, xa, xb, ya, yb):
        lines = self._lines(cell)
        if not lines:
            return
        n = len(lines)
        mid = (ya + yb) / 2
        top = mid + n * self.leading / 2
        for i, ln in enumerate(lines):
            base = top - (i + 0.5) * self.leading - 0.36 * self.size
            if cell.align == "c":
                draw_text(c, (xa + xb) / 2, base, ln, self.size, cell.bold, "c")
            elif cell.align == "r":
                draw_text(c, xb - self.pad, base, ln, self.size, cell.bold, "r")
            else:
                draw_text(c, xa + self.pad, base, ln, self.size, cell.bold)


def _merge(intervals):
    out = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1] + 1e-6:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


# --------------------------------------------------------------------------
# narrative text (seed text, cleaned: lines joined, OCR glitches fixed,
# figures unchanged)
# --------------------------------------------------------------------------
# ("part", text) centred title; ("h", text) bold heading; ("p", text)
# indented paragraph; ("table", None) the 会议费培训费明细 table;
# ("page", None) page break.
NARRATIVE = [
    ("part", "第一部分 单位概况"),
    ("h", "一、主要职责及机构设置"),
    ("p", "1、主要职责是："),
    ("p", "（一）负责市政府门户网站的建设、管理、维护和全市政府网站的日常监测、绩效测评工作；"),
    (
        "p",
        "（二）负责全市政务数据的采集、入库、整理、维护、更新等日常管理工作；负责全市电子政务外网、"
        "市行政中心网络运行维护及网络安全技术支持与服务工作；",
    ),
    ("p", "（三）负责12345市民热线管理和运维工作；"),
    ("p", "（四）负责全市电子政务外网、关天经济区大数据中心机房和平台的管理维护工作；"),
    ("p", "（五）负责局系统自建信息系统日常管理和运维工作；"),
    ("p", "（六）完成市数字经济局交办的其他工作任务。"),
    ("p", "2、内设机构如下："),
    (
        "p",
        "（一）办公室。负责中心日常行政事务，包括纪检、人事、财务、工会、考勤、后勤保障、资产管理、"
        "节假日值班安排等工作；负责综合性文字材料起草、文书、会议筹备、培训、技术岗位评聘、年度考核等工作；"
        "负责抓好中心干部思想建设、组织建设和作风建设，协助领导组织中心政治理论和业务学习；"
        "完成领导交办的其他工作。",
    ),
    (
        "p",
        "（二）网站部。负责市政府门户网站的建设、运维和管理，做好市政府网站数字证书、市长信箱、"
        "网站栏目调整和发布内容增删工作；做好防篡改系统和漏洞扫描等安全设备、软件的日常使用；"
        "做好网站网民留言的审核、办理、督办工作；负责全市政府网站的日常监测、绩效测评工作；"
        "做好网站监测、抽查、检测，通知整改工作；配合市政务公开办对全市政府网站平台建设项开展绩效测评工作；"
        "负责市政府网站集约化平台管理；按照政府网站集约化平台管理办法，对平台内运行政府网站在连通性、"
        "不可用链接、内容更新等方面进行日常监测工作；负责做好网站数据备份、日常读网工作；"
        "完成领导交办的其他工作。",
    ),
    (
        "p",
        "（三）技术工程部。负责市电子政务外网及行政中心园区互联网的运维管理；负责关天大数据中心机房及"
        "行政中心电子政务外网机房的管理（包括制度制定、资源分配、安全保障、日常管理，以及对运维单位进行"
        "量化考核）；负责对电子政务外网及关天数据中心运维过程中出现的技术性问题、中心负责的其他工作等"
        "提供技术指导和技术的支撑；负责制定电子政务外网及关天大数据中心总体网络安全策略，对网络安全运维"
        "单位工作进行指导和考核；完成领导交办的其他工作。",
    ),
    (
        "p",
        "（四）数据部。负责做好数据的采集、接入、整理、维护、更新等日常管理工作；负责做好数据的安全管理，"
        "保密工作，做好数据的开放，共享及综合应用工作；完成领导交办的其他工作。",
    ),
    (
        "p",
        "（五）热线部。负责12345热线的日常管理和运维工作，协调解决热线归并、建设、优化、运营等重大事项及"
        "重点难点问题。制定完善热线管理办法、运行机制及考核细则；负责重点工单的指导与协调、重大舆情的"
        "监测与分析、责任单位的督办与考核；负责热线大数据分类汇总，发布热线运行分析报告；负责热线中心"
        "综合协调及对外联络工作；负责热线中心精神文明、单位文化建设工作；",
    ),
    ("p", "（六）完成领导交办的其他工作任务。"),
    ("h", "二、2023年重点工作任务"),
    ("p", "（一）实施市政府网站适老化改造暨集约化平台升级项目；"),
    (
        "p",
        "（二）完成宝鸡市12345政务服务便民热线优化提升项目。管理运维方面：一是深化热线接诉即办改革，"
        "积极落实构建大热线、推进大协同、领导进热线、开行直通车、开辟新通道、建立大督查、用好大数据、"
        "加力强支撑等八项重点任务；",
    ),
    ("p", "（三）全面规范提升电子政务外网管理水平；"),
    ("p", "（四）完成2023-2025年度行政中心互联网接入服务采购，保障驻行政中心园区单位上网办公；"),
    (
        "p",
        "（五）进一步提升政府网站管理水平，强化日常监测监管，建立长效联动机制，力争政府网站工作再上新台阶。",
    ),
    ("h", "三、单位人员情况说明"),
    (
        "p",
        "截止上年底，本单位人员编制30人，其中行政编制0人，事业编制30人；实有人员30人，其中行政0人，"
        "事业30人，单位管理的退休人员5人。",
    ),
    ("page", None),
    ("part", "第二部分 2023年单位综合预算公开说明"),
    ("h", "一、单位2023年收支预算情况说明"),
    (
        "p",
        "按照综合预算的原则，本单位所有收入和支出均纳入单位预算管理。本单位预算收入363.45万元，"
        "其中一般公共预算拨款收入363.45万元，本单位预算收入较上年增加106.46万元，主要原因是新调入5名"
        "工作人员，加之各项社保缴费基数增长，财政预算增加。本单位预算支出363.45万元，其中一般公共预算"
        "拨款支出363.45万元，本单位预算支出较上年增加106.46万元，主要原因是新调入5名工作人员，加之各项"
        "社保缴费基数增长，财政预算增加。",
    ),
    ("h", "二、单位2023年财政拨款收支预算情况说明"),
    (
        "p",
        "本单位财政拨款收入363.45万元，其中一般公共预算拨款收入363.45万元，2023年本单位财政拨款收入"
        "较上年增加106.46万元，主要原因是新调入5名工作人员，加之各项社保缴费基数增长，财政预算增加。"
        "本单位财政拨款支出363.45万元，其中一般公共预算拨款支出363.45万元，2023年本单位财政拨款支出"
        "较上年增加106.46万元，主要原因是新调入5名工作人员，加之各项社保缴费基数增长，财政预算增加。",
    ),
    ("h", "三、单位2023年一般公共预算财政拨款支出预算情况说明"),
    ("p", "1、一般公共预算当年拨款规模变化情况"),
    (
        "p",
        "本单位当年一般公共预算拨款支出363.45万元，较上年增加106.46万元，主要原因是新调入5名工作人员，"
        "加之各项社保缴费基数增长，财政预算增加。",
    ),
    ("p", "2、支出按功能科目分类的明细情况"),
    ("p", "本单位当年一般公共预算支出363.45万元，其中："),
    (
        "p",
        "（1）事业运行（2010350）276.63万元，较上年增加58万元；原因是中心新调入工作人员5名，"
        "加之各项社保缴费基数增长，财政预算增加。",
    ),
    (
        "p",
        "（2）机关事业单位养老保险缴费（2080505）29.80万元，较上年增加5.99万元。原因是新增5名工作人员，"
        "且养老保险基数增长，财政拨款增加。",
    ),
    (
        "p",
        "（3）事业单位医疗保险费（2101102）16.82万元，较上年增加3.3万元，增长原因是中心新增5名工作人员，"
        "缴费基数增长，财政拨款增加。",
    ),
    ("p", "3、支出按经济科目分类的明细情况。"),
    ("p", "（1）按照单位预算支出经济分类的类级科目说明"),
    (
        "p",
        "本单位当年一般公共预算支出363.45万元，其中：工资福利支出（301）311.38万元，较上年增加66.96万元；"
        "商品和服务支出（302）12.50万元，与上年基本持平；对个人和家庭的补助支出（303）0.07万元，"
        "与上年基本持平；",
    ),
    ("p", "（2）按照政府预算支出经济分类的类级科目说明"),
    (
        "p",
        "本单位当年一般公共预算支出363.45万元，其中：工资福利支出（301）311.38万元，较上年增加66.96万元；"
        "商品和服务支出（302）12.50万元，与上年基本持平；对个人和家庭的补助支出（303）0.07万元，"
        "与上年基本持平；",
    ),
    ("h", "四、政府性基金预算支出情况说明"),
    ("p", "本单位无政府性基金预算收支，并已公开空表。"),
    ("h", "五、国有资本经营预算拨款收支情况说明"),
    ("p", "本单位无当年国有资本经营预算收支，并已公开空表。"),
    ("h", "六、一般公共预算“三公”经费及会议费、培训费支出预算情况说明"),
    (
        "p",
        "本单位当年一般公共预算“三公”经费预算支出0.2万元，较上年减少0.6万元（33.33%），减少的主要原因是"
        "本年预计无公务接待和会议业务活动。其中：因公出国（境）经费0万元，较上年增加（减少）0万元（0%），"
        "增加（减少）的主要原因是单位无此项业务；公务接待费0万元，较上年减少0万元（0%），减少的主要原因是"
        "上年受疫情影响，单位当年无接待活动；公务用车运行维护费0万元，较上年增加（减少）0万元（0%），"
        "增加（减少）的主要原因是单位无车辆；公务用车购置费0万元，较上年增加（减少）0万元（0%），"
        "增加（减少）的主要原因是单位无车辆。本单位当年一般公共预算会议费预算支出0万元，较上年减少0万元"
        "（0%），减少的主要原因是上年受疫情影响，单位当年内预计无会议安排。本单位当年一般公共预算培训费"
        "预算支出0.2万元，较上年减少0.4万元（40%），减少的主要原因是上年受疫情影响，单位本年安排培训"
        "次数减少。",
    ),
    ("table", None),
    ("h", "七、国有资产占用情况及购置情况说明"),
    (
        "p",
        "截止上年底，本单位共有车辆0辆，单价20万元以上的设备0台（套）。当年部门预算安排购置车辆0辆；"
        "安排购置单价20万以上的设备0台（套）。",
    ),
    ("h", "八、政府采购预算情况说明"),
    ("p", "本单位当年无政府采购预算，并已公开空表。"),
    ("h", "九、预算绩效目标说明"),
    (
        "p",
        "本单位绩效目标管理全覆盖，涉及当年一般公共预算当年拨款363.45万元，当年政府性基金预算当年拨款0万元，"
        "当年国有资本经营预算拨款0万元（详见公开报表中的绩效目标表）。",
    ),
    ("h", "十、机关运行经费安排情况说明"),
    ("p", "本单位当年公用经费预算安排12.5万元，较上年稍有增加，主要是单位调入人数增加。"),
    ("h", "十一、专业名词解释"),
    (
        "p",
        "1.机关运行经费：指各单位的公用经费，包括办公及印刷费、邮电费、差旅费、会议费、福利费、日常维修费、"
        "专用材料及一般设备购置费、办公用房水电费、办公用房取暖费、办公用房物业管理费、公务用车运行维护费"
        "以及其他费用。",
    ),
    ("page", None),
    ("part", "第三部分 2023年单位综合预算公开报表"),
    ("center", "（详见附表）"),
]

# 会议费培训费明细 (narrative section 六); figures as printed in the seed.
TRAINING_DETAIL = [
    ("1", "专业技术人员继续教育业务培训", "2023年8月1日-9月30日", "13人", "0.02", ""),
]


# --------------------------------------------------------------------------
# the 15 tables
# --------------------------------------------------------------------------
CATALOGUE = [
    ("表1", "单位综合预算收支总表", "否", ""),
    ("表2", "单位综合预算收入总表", "否", ""),
    ("表3", "单位综合预算支出总表", "否", ""),
    ("表4", "单位综合预算财政拨款收支总表", "否", ""),
    ("表5", "单位综合预算一般公共预算支出明细表（按支出功能分类科目）", "否", ""),
    ("表6", "单位综合预算一般公共预算支出明细表（按支出经济分类科目）", "否", ""),
    ("表7", "单位综合预算一般公共预算基本支出明细表（按支出功能分类科目）", "否", ""),
    ("表8", "单位综合预算一般公共预算基本支出明细表（按支出经济分类科目）", "否", ""),
    ("表9", "单位综合预算政府性基金收支表", "是", "不涉及"),
    ("表10", "单位综合预算专项业务经费支出表", "否", ""),
    ("表11", "单位综合预算政府采购（资产配置、购买服务）预算表", "是", "不涉及"),
    ("表12", "单位综合预算一般公共预算拨款“三公”经费及会议费、培训费支出预算表", "否", ""),
    ("表13", "单位专项业务经费绩效目标表", "否", ""),
    ("表14", "单位整体支出绩效目标表", "否", ""),
    ("表15", "专项资金总体绩效目标表", "否", ""),
]
TITLES = {no: name for no, name, _, _ in CATALOGUE}

# Function classification block of 表1/表4 (类 level); values from 表5.
FUNC_ITEMS = [
    ("1、一般公共服务支出", 316.63),
    ("2、外交支出", 0),
    ("3、国防支出", 0),
    ("4、公共安全支出", 0),
    ("5、教育支出", 0.20),
    ("6、科学技术支出", 0),
    ("7、文化旅游体育与传媒支出", 0),
    ("8、社会保障和就业支出", 29.80),
    ("9、社会保险基金支出", 0),
    ("10、卫生健康支出", 16.82),
    ("11、节能环保支出", 0),
    ("12、城乡社区支出", 0),
    ("13、农林水支出", 0),
    ("14、交通运输支出", 0),
    ("15、资源勘探工业信息等支出", 0),
    ("16、商业服务业等支出", 0),
    ("17、金融支出", 0),
    ("18、援助其他地区支出", 0),
    ("19、自然资源海洋气象等支出", 0),
    ("20、住房保障支出", 0),
    ("21、粮油物资储备支出", 0),
    ("22、国有资本经营预算支出", 0),
    ("23、灾害防治及应急管理支出", 0),
    ("24、其他支出", 0),
]
# Expenditure by nature / department economic class (values as printed in
# the seed's 表1: 323.45 = 311.38 + 12.00 + 0.07).
NATURE_ITEMS = [
    ("1、人员经费和公用经费支出", 323.45),
    ("(1)工资福利支出", 311.38),
    ("(2)商品和服务支出", 12.00),
    ("(3)对个人和家庭的补助", 0.07),
    ("(4)资本性支出", 0),
    ("2、专项业务经费支出", 40.00),
    ("(1)工资福利支出", 0),
    ("(2)商品和服务支出", 40.00),
    ("(3)对个人和家庭补助", 0),
    ("(4)债务利息及费用支出", 0),
    ("(5)资本性支出(基本建设)", 0),
    ("(6)资本性支出", 0),
    ("(7)对企业补助(基本建设)", 0),
    ("(8)对企业补助", 0),
    ("(9)对社会保障基金补助", 0),
    ("(10)其他支出", 0),
    ("3、上缴上级支出", 0),
    ("4、事业单位经营支出", 0),
    ("5、对附属单位补助支出", 0),
]
# Government economic classification (a 事业单位: 505 对事业单位经常性补助).
GOV_ITEMS = [
    ("1、机关工资福利支出", 0),
    ("2、机关商品和服务支出", 0),
    ("3、机关资本性支出（一）", 0),
    ("4、机关资本性支出（二）", 0),
    ("5、对事业单位经常性补助", 363.38),
    ("6、对事业单位资本性补助", 0),
    ("7、对企业补助", 0),
    ("8、对企业资本性支出", 0),
    ("9、对个人和家庭的补助", 0.07),
    ("10、对社会保障基金补助", 0),
    ("11、其他支出", 0),
]
TOTAL = 363.45

# 表5 / 表7 rows: (code, name, total, personnel, public, project)
T5 = [
    ("合计", "", 363.45, 311.45, 12.00, 40.00),
    ("201", "一般公共服务支出", 316.63, 264.83, 11.80, 40.00),
    ("20103", "政府办公厅(室)及相关机构事务", 276.63, 264.83, 11.80, 0.00),
    ("2010350", "事业运行", 276.63, 264.83, 11.80, 0.00),
    ("20105", "统计信息事务", 40.00, 0.00, 0.00, 40.00),
    ("2010504", "信息事务", 40.00, 0.00, 0.00, 40.00),
    ("205", "教育支出", 0.20, 0.00, 0.20, 0.00),
    ("20508", "进修及培训", 0.20, 0.00, 0.20, 0.00),
    ("2050803", "培训支出", 0.20, 0.00, 0.20, 0.00),
    ("208", "社会保障和就业支出", 29.80, 29.80, 0.00, 0.00),
    ("20805", "行政事业单位养老支出", 29.80, 29.80, 0.00, 0.00),
    ("2080505", "机关事业单位基本养老保险缴费支出", 29.80, 29.80, 0.00, 0.00),
    ("210", "卫生健康支出", 16.82, 16.82, 0.00, 0.00),
    ("21011", "行政事业单位医疗", 16.82, 16.82, 0.00, 0.00),
    ("2101102", "事业单位医疗", 16.82, 16.82, 0.00, 0.00),
]
T7 = [
    ("合计", "", 323.45, 311.45, 12.00),
    ("201", "一般公共服务支出", 276.63, 264.83, 11.80),
    ("20103", "政府办公厅(室)及相关机构事务", 276.63, 264.83, 11.80),
    ("2010350", "事业运行", 276.63, 264.83, 11.80),
    ("20105", "统计信息事务", 0.00, 0.00, 0.00),
    ("2010504", "信息事务", 0.00, 0.00, 0.00),
    ("205", "教育支出", 0.20, 0.00, 0.20),
    ("20508", "进修及培训", 0.20, 0.00, 0.20),
    ("2050803", "培训支出", 0.20, 0.00, 0.20),
    ("208", "社会保障和就业支出", 29.80, 29.80, 0.00),
    ("20805", "行政事业单位养老支出", 29.80, 29.80, 0.00),
    ("2080505", "机关事业单位基本养老保险缴费支出", 29.80, 29.80, 0.00),
    ("210", "卫生健康支出", 16.82, 16.82, 0.00),
    ("21011", "行政事业单位医疗", 16.82, 16.82, 0.00),
    ("2101102", "事业单位医疗", 16.82, 16.82, 0.00),
]
# 表6 rows: (dept code, dept name, gov code, gov name, total, personnel, public, project)
T6 = [
    ("合计", "", "", "", 363.44, 311.44, 12.00, 40.00),
    ("301", "工资福利支出", "", "", 311.37, 311.37, 0.00, 0.00),
    ("30101", "基本工资", "50501", "工资福利支出", 107.12, 107.12, 0.00, 0.00),
    ("30102", "津贴补贴", "50501", "工资福利支出", 7.20, 7.20, 0.00, 0.00),
    ("30107", "绩效工资", "50501", "工资福利支出", 148.20, 148.20, 0.00, 0.00),
    ("30108", "机关事业单位基本养老保险缴费", "50501", "工资福利支出", 29.80, 29.80, 0.00, 0.00),
    ("30110", "职工基本医疗保险缴费", "50501", "工资福利支出", 16.02, 16.02, 0.00, 0.00),
    ("30112", "其他社会保障缴费", "50501", "工资福利支出", 0.80, 0.80, 0.00, 0.00),
    ("30199", "其他工资福利支出", "50501", "工资福利支出", 2.23, 2.23, 0.00, 0.00),
    ("302", "商品和服务支出", "", "", 52.00, 0.00, 12.00, 40.00),
    ("30201", "办公费", "50502", "商品和服务支出", 3.36, 0.00, 3.36, 0.00),
    ("30207", "邮电费", "50502", "商品和服务支出", 0.50, 0.00, 0.50, 0.00),
    ("30211", "差旅费", "50502", "商品和服务支出", 0.90, 0.00, 0.90, 0.00),
    ("30216", "培训费", "50502", "商品和服务支出", 0.20, 0.00, 0.20, 0.00),
    ("30228", "工会经费", "50502", "商品和服务支出", 5.04, 0.00, 5.04, 0.00),
    ("30239", "其他交通费用", "50502", "商品和服务支出", 1.00, 0.00, 1.00, 0.00),
    ("30299", "其他商品和服务支出", "50502", "商品和服务支出", 41.00, 0.00, 1.00, 40.00),
    ("303", "对个人和家庭的补助", "", "", 0.07, 0.07, 0.00, 0.00),
    ("30309", "奖励金", "50901", "社会福利和救助", 0.07, 0.07, 0.00, 0.00),
]
T8 = [
    ("合计", "", "", "", 323.44, 311.44, 12.00),
    ("301", "工资福利支出", "", "", 311.37, 311.37, 0.00),
    ("30101", "基本工资", "50501", "工资福利支出", 107.12, 107.12, 0.00),
    ("30102", "津贴补贴", "50501", "工资福利支出", 7.20, 7.20, 0.00),
    ("30107", "绩效工资", "50501", "工资福利支出", 148.20, 148.20, 0.00),
    ("30108", "机关事业单位基本养老保险缴费", "50501", "工资福利支出", 29.80, 29.80, 0.00),
    ("30110", "职工基本医疗保险缴费", "50501", "工资福利支出", 16.02, 16.02, 0.00),
    ("30112", "其他社会保障缴费", "50501", "工资福利支出", 0.80, 0.80, 0.00),
    ("30199", "其他工资福利支出", "50501", "工资福利支出", 2.23, 2.23, 0.00),
    ("302", "商品和服务支出", "", "", 12.00, 0.00, 12.00),
    ("30201", "办公费", "50502", "商品和服务支出", 3.36, 0.00, 3.36),
    ("30207", "邮电费", "50502", "商品和服务支出", 0.50, 0.00, 0.50),
    ("30211", "差旅费", "50502", "商品和服务支出", 0.90, 0.00, 0.90),
    ("30216", "培训费", "50502", "商品和服务支出", 0.20, 0.00, 0.20),
    ("30228", "工会经费", "50502", "商品和服务支出", 5.04, 0.00, 5.04),
    ("30239", "其他交通费用", "50502", "商品和服务支出", 1.00, 0.00, 1.00),
    ("30299", "其他商品和服务支出", "50502", "商品和服务支出", 1.00, 0.00, 1.00),
    ("303", "对个人和家庭的补助", "", "", 0.07, 0.07, 0.00),
    ("30309", "奖励金", "50901", "社会福利和救助", 0.07, 0.07, 0.00),
]
# 表10 rows: (code, name, amount, note)
T10 = [
    ("合计", "", 40.00, ""),
    ("621", "宝鸡市大数据发展服务局", 40.00, ""),
    ("621002", "宝鸡市大数据管理中心", 40.00, ""),
    ("", "专用项目", 40.00, ""),
    ("", "数据服务专项", 40.00, ""),
    ("", "12345平台管理经费", 10.00, "2023年预算下达"),
    ("", "电子政务外网运营维护费", 30.00, "2023年预算下达"),
]
# 表12: 合计, 因公出国（境）费, 公务用车(小计, 购置费, 运行维护费), 公务接待费, 会议费, 培训费
T12_THIS = [0, 0, 0, 0, 0, 0, 0, 0.20]
T12_LAST = [0, 0, 0, 0, 0, 0, 0, 1.00]
T12_DIFF = [float(D(a) - D(b)) for a, b in zip(T12_THIS, T12_LAST, strict=True)]


def check_arithmetic():
    """Cross-table identities that the seed itself satisfies."""
    s = lambda xs: sum((D(x) for x in xs), Decimal(0))  # noqa: E731
    assert s(v for _, v in FUNC_ITEMS) == D(TOTAL)
    assert D(NATURE_ITEMS[0][1]) == s(v for _, v in NATURE_ITEMS[1:5])
    assert D(NATURE_ITEMS[5][1]) == s(v for _, v in NATURE_ITEMS[6:16])
    assert D(NATURE_ITEMS[0][1]) + D(NATURE_ITEMS[5][1]) == D(TOTAL)
    assert s(v for _, v in GOV_ITEMS) == D(TOTAL)
    for rows in (T5, T6):
        for r in rows:
            assert D(r[-4]) == s(r[-3:]), r
    for rows in (T7, T8):
        for r in rows:
            assert D(r[-3]) == s(r[-2:]), r
    assert D(T5[0][2]) == D(TOTAL)
    assert s(r[2] for r in T10[5:]) == D(T10[0][2])


# --------------------------------------------------------------------------
# table builders
# --------------------------------------------------------------------------
def summary_table(kind):
    """表1 (kind='all') / 表4 (kind='grant'): four side-by-side blocks."""
    g = Grid(
        [160, 52, 150, 52, 148, 52, 150, 52], size=8, min_h=12.2, pad=1.6, leading=9, header_rows=2
    )
    g.add(0, 0, "收入", cs=2, align="c")
    g.add(0, 2, "支出", cs=6, align="c")
    for c, t in enumerate(
        [
            "项目",
            "预算数",
            "项目（按功能分类）",
            "预算数",
            "项目（按支出性质和经济分类）",
            "预算数",
            "项目（按政府预算经济分类）",
            "预算数",
        ]
    ):
        g.add(1, c, t, align="c")
    if kind == "all":
        head = "一、部门预算"
        income = [
            ("1、财政拨款", TOTAL),
            ("(1)一般公共预算拨款", TOTAL),
            ("其中：专项资金列入部门预算的项目", 0),
            ("(2)政府性基金拨款", 0),
            ("(3)国有资本经营预算收入", 0),
            ("2、上级补助收入", 0),
            ("3、事业收入", 0),
            ("其中：纳入财政专户管理的收费", 0),
            ("4、事业单位经营收入", 0),
            ("5、附属单位上缴收入", 0),
            ("6、其他收入", 0),
        ]
        tail = [
            ("本年收入合计", TOTAL, "本年支出合计", TOTAL),
            ("用事业基金弥补收支差额", 0, "结转下年", 0),
            ("上年实户资金余额", 0, "未安排支出的实户资金", 0),
            ("上年结转", 0, None, None),
            ("其中：财政拨款资金结转", 0, None, None),
            ("非财政拨款资金结余", 0, None, None),
            ("收入总计", TOTAL, "支出总计", TOTAL),
        ]
    else:
        head = "一、财政拨款"
        income = [
            ("1、一般公共预算拨款", TOTAL),
            ("其中：非税收入拨款", 0),
            ("2、政府性基金拨款", 0),
            ("3、国有资本经营预算收入", 0),
        ]
        tail = [
            ("本年收入合计", TOTAL, "本年支出合计", TOTAL),
            ("上年结转", 0, "结转下年", 0),
            ("收入总计", TOTAL, "支出总计", TOTAL),
        ]
    aligns = ["l", "r"] * 4
    g.append([head, TOTAL] * 4, aligns)
    blocks = [income, FUNC_ITEMS, NATURE_ITEMS, GOV_ITEMS]
    for i in range(max(len(b) for b in blocks)):
        vals = []
        for b in blocks:
            vals += list(b[i]) if i < len(b) else ["", None]
        g.append(vals, aligns)
    for il, iv, el, ev in tail:
        g.append([il, iv] + [el, ev] * 3, aligns)
    return g


def unit_table(kind):
    """表2 (income by unit) / 表3 (expenditure by unit)."""
    if kind == "income":
        cols = [
            "合计",
            None,
            None,
            "政府性基金拨款",
            "上级补助收入",
            "事业收入",
            "事业单位经营收入",
            "附属单位上缴收入",
            "用事业基金弥补收支差额",
            "上年结转",
            "上年实户资金余额",
            "其他收入",
        ]
        sub = "其中：专项资金列入部门预算项目"
        wnum = 52
    else:
        cols = [
            "合计",
            None,
            None,
            "政府性基金拨款",
            "事业收入",
            "事业单位经营收入",
            "附属单位上缴收入",
            "上年实户资金余额",
            "其他收入",
            "上年结转",
        ]
        sub = "其中：专项资金列入部门预算的项目"
        wnum = 60
    n = len(cols)
    g = Grid([58, 110] + [wnum] * n, size=8, min_h=16, header_rows=3)
    g.add(0, 0, "单位编码", rs=3, align="c")
    g.add(0, 1, "单位名称", rs=3, align="c")
    g.add(0, 2, "部门预算", cs=n, align="c")
    for i, t in enumerate(cols):
        c = 2 + i
        if i == 1:
            g.add(1, c, "一般公共预算拨款", cs=2, align="c")
            g.add(2, c, "小计", align="c")
            g.add(2, c + 1, sub, align="c")
        elif t is not None:
            g.add(1, c, t, rs=2, align="c")
    vals = [TOTAL, TOTAL] + [0] * (n - 2)
    aligns = ["l", "l"] + ["r"] * n
    g.append(["", "合计"] + vals, aligns)
    g.append([UNIT_CODE, UNIT] + vals, aligns)
    return g


def detail_func_table(rows, with_project):
    """表5 / 表7 (portrait)."""
    if with_project:
        g = Grid([30, 58, 175, 65, 65, 65, 65], size=8.5, min_h=17, header_rows=2)
    else:
        g = Grid([32, 62, 211, 72, 73, 73], size=8.5, min_h=17, header_rows=2)
    g.add(0, 0, "序号", rs=2, align="c")
    g.add(0, 1, "科目编码", rs=2, align="c")
    g.add(0, 2, "科目名称", rs=2, align="c")
    g.add(0, 3, "合计", rs=2, align="c")
    g.add(0, 4, "基本支出", cs=2, align="c")
    g.add(1, 4, "人员经费", align="c")
    g.add(1, 5, "公用经费", align="c")
    if with_project:
        g.add(0, 6, "项目支出", rs=2, align="c")
    for i, r in enumerate(rows, 1):
        g.append([str(i)] + list(r), ["c", "l", "l"] + ["r"] * (len(r) - 2))
    return g


def detail_econ_table(rows, with_project):
    """表6 (landscape, with 项目支出) / 表8 (portrait)."""
    if with_project:
        g = Grid([32, 58, 185, 58, 137, 75, 75, 75, 75], size=8.5, min_h=17, header_rows=2)
    else:
        g = Grid([26, 44, 134, 44, 86, 63, 63, 63], size=8, min_h=17, header_rows=2)
    g.add(0, 0, "序号", rs=2, align="c")
    g.add(0, 1, "部门经济分类", cs=2, align="c")
    g.add(0, 3, "政府经济分类", cs=2, align="c")
    for c, t in zip((1, 2, 3, 4), ("科目编码", "科目名称", "科目编码", "科目名称"), strict=True):
        g.add(1, c, t, align="c")
    g.add(0, 5, "合计", rs=2, align="c")
    g.add(0, 6, "基本支出", cs=2, align="c")
    g.add(1, 6, "人员经费", align="c")
    g.add(1, 7, "公用经费", align="c")
    if with_project:
        g.add(0, 8, "项目支出", rs=2, align="c")
    for i, r in enumerate(rows, 1):
        g.append([str(i)] + list(r), ["c", "l", "l", "l", "l"] + ["r"] * (len(r) - 4))
    return g


def gov_fund_table():
    """表9: empty form."""
    g = Grid([150, 45, 160, 45, 160, 45, 160, 45], size=8, min_h=16.5, header_rows=2)
    g.add(0, 0, "收入", cs=2, align="c")
    g.add(0, 2, "支出", cs=6, align="c")
    for c in range(4):
        g.add(1, 2 * c, "项目", align="c")
        g.add(1, 2 * c + 1, "预算数", align="c")
    income = ["一、政府性基金拨款"]
    func = [
        "一、科学技术支出",
        "二、文化旅游体育与传媒支出",
        "三、社会保障和就业支出",
        "四、节能环保支出",
        "五、城乡社区支出",
        "六、农林水支出",
        "七、交通运输支出",
        "八、资源勘探工业信息等支出",
        "九、金融支出",
        "十、其他支出",
        "十一、转移性支出",
        "十二、债务还本支出",
        "十三、债务付息支出",
        "十四、债务发行费用支出",
    ]
    nature = [
        "一、人员经费和公用经费支出",
        "工资福利支出",
        "商品和服务支出",
        "对个人和家庭的补助",
        "其他资本性支出",
        "二、专项业务经费支出",
        "工资福利支出",
        "商品和服务支出",
        "对个人和家庭的补助",
        "债务付息及费用支出",
        "资本性支出(基本建设)",
        "资本性支出",
        "对企业补助(基本建设)",
        "对企业补助",
        "对社会保障基金补助",
        "其他支出",
        "三、上缴上级支出",
        "四、事业单位经营支出",
        "五、对附属单位补助支出",
    ]
    gov = [
        "一、机关工资福利支出",
        "二、机关商品和服务支出",
        "三、机关资本性支出(一)",
        "四、机关资本性支出(二)",
        "五、对事业单位经常性补助",
        "六、对事业单位资本性补助",
        "七、对企业补助",
        "八、对企业资本性支出",
        "九、对个人和家庭的补助",
        "十、对社会保障基金补助",
        "十一、债务利息及费用支出",
        "十二、债务还本支出",
        "十三、转移性支出",
        "十四、预备费及预留",
        "十五、其他支出",
    ]
    blocks = [income, func, nature, gov]
    aligns = ["l", "r"] * 4
    for i in range(max(map(len, blocks))):
        vals = []
        for b in blocks:
            vals += [b[i] if i < len(b) else "", None]
        g.append(vals, aligns)
    g.append(["收入总计", None] + ["支出总计", None] * 3, aligns)
    return g


def procurement_table():
    """表11: empty form."""
    w = [56, 72, 72, 72, 36, 36, 36, 36, 36, 36, 36, 44, 56, 58, 58]
    g = Grid(w, size=8, min_h=16, header_rows=2)
    for c, t in enumerate(["单位编码", "单位名称", "项目名称", "采购品目"]):
        g.add(0, c, t, rs=2, align="c")
    g.add(0, 4, "支出功能分类科目", cs=3, align="c")
    g.add(0, 7, "部门经济分类", cs=2, align="c")
    g.add(0, 9, "政府经济分类", cs=2, align="c")
    g.add(0, 11, "数量", rs=2, align="c")
    g.add(0, 12, "资金来源", cs=3, align="c")
    for c, t in zip(
        range(4, 15),
        ["类", "款", "项", "类", "款", "类", "款", None, "合计", "财政拨款", "其他资金"],
        strict=True,
    ):
        if t:
            g.add(1, c, t, align="c")
    g.append(["**"] * len(w), ["l"] * len(w))
    return g


def three_public_table():
    """表12."""
    w = [40, 70] + [27.5] * 24
    g = Grid(w, size=6.5, min_h=15, pad=1.5, header_rows=3)
    g.add(0, 0, "单位编码", rs=3, align="c")
    g.add(0, 1, "单位名称", rs=3, align="c")
    for k, grp in enumerate(["本年预算", "上年预算", "增减变化"]):
        c0 = 2 + 8 * k
        g.add(0, c0, grp, cs=8, align="c")
        g.add(1, c0, "合计", rs=2, align="c")
        g.add(1, c0 + 1, "因公出国（境）费", rs=2, align="c")
        g.add(1, c0 + 2, "公务用车购置及运行维护费", cs=3, align="c")
        g.add(2, c0 + 2, "小计", align="c")
        g.add(2, c0 + 3, "购置费", align="c")
        g.add(2, c0 + 4, "运行维护费", align="c")
        g.add(1, c0 + 5, "公务接待费", rs=2, align="c")
        g.add(1, c0 + 6, "会议费", rs=2, align="c")
        g.add(1, c0 + 7, "培训费", rs=2, align="c")
    vals = T12_THIS + T12_LAST + T12_DIFF
    aligns = ["l", "l"] + ["r"] * 24
    g.append(["", "合计"] + vals, aligns)
    g.append([UNIT_CODE, UNIT] + vals, aligns)
    return g


def perf_project_table():
    """表13 单位专项业务经费绩效目标表."""
    g = Grid([22, 60, 66, 190, 110, 75], size=8.5, min_h=17, leading=10, snap="all")
    g.add(0, 0, "项目名称", cs=2, align="c")
    g.add(0, 2, "电子政务外网运营维护费、12345平台管理经费", cs=4, align="c")
    g.add(1, 0, "主管部门", cs=2, align="c")
    g.add(1, 2, "宝鸡市数字经济局", cs=4)
    g.add(2, 0, "资金金额（万元）", rs=3, cs=2)
    for r, (lab, v) in enumerate(
        [("实施期资金总额：", 40.00), ("其中：财政拨款", 40.00), ("其他资金", None)], 2
    ):
        g.add(r, 2, lab, cs=2, align="c")
        g.add(r, 4, fmt(v), cs=2, align="r")
    g.add(5, 0, "总体目标", rs=2, align="c")
    g.add(5, 1, "目标1：保障机房基础环境安全可靠，保障主干网络平稳。", cs=5)
    g.add(6, 1, "目标2：为驻行政中心单位提供互联网接入，为全市电子政务类应用系统提供网络支撑", cs=5)
    r0 = 7
    for c, t in enumerate(["一级指标", "二级指标", "指标内容", "指标值", "备注"], 1):
        g.add(r0, c, t, align="c")
    spec = [
        (
            "产\n出\n指\n标",
            [
                (
                    "数量指标",
                    [
                        ("指标1：机房供电、空调、消防等系统维护", "保障机房基础环境安全可靠"),
                        ("指标2：网络设备及安全设备等维护", "保障主干网络平稳"),
                    ],
                ),
                ("质量指标", [("指标1：网络可用率", "≥99.9%"), ("指标2：", "")]),
                ("时效指标", [("指标1：故障受理", "7×24小时"), ("指标2：故障响应", "≤30分钟")]),
                (
                    "成本指标",
                    [("指标1：市级部门电子政务网统一接入", "节省财力成本"), ("指标2：", "")],
                ),
            ],
        ),
        (
            "效\n益\n指\n标",
            [
                (
                    "经济效益指标",
                    [
                        (
                            "指标1：满足行政中心园区上网办公需求",
                            "保障行政中心单位互联网及电子政务网接入",
                        ),
                        ("指标2：", ""),
                    ],
                ),
                (
                    "社会效益指标",
                    [
                        ("指标1：为电子政务类应用提供支撑", "为全市电子政务类应用系统提供网络支撑"),
                        ("指标2：", ""),
                    ],
                ),
                ("生态效益指标", [("指标1：市级部门统一接入", "节省财力成本"), ("指标2：", "")]),
                ("可持续影响指标", [("指标1：网络保障", "7×24小时"), ("指标2：", "")]),
            ],
        ),
        (
            "满\n意\n度\n指\n标",
            [
                (
                    "服务对象满意度指标",
                    [
                        ("指标1：为全市电子政务类应用提供支撑", "100%"),
                        ("指标2：满足行政中心园区上网办公", "100%"),
                    ],
                ),
            ],
        ),
    ]
    r = _perf_block(g, r0 + 1, spec, content_cols=(3, 1), value_cols=(4, 1), note_col=5)
    g.add(r0, 0, "年度绩效指标", rs=r - r0, align="c")
    return g


def _perf_block(g, r, spec, content_cols, value_cols, note_col=None, lvl1_col=1, lvl2_col=2):
    for lvl1, groups in spec:
        start = r
        for lvl2, items in groups:
            g.add(r, lvl2_col, lvl2, rs=len(items), align="c")
            for content, value in items:
                g.add(r, content_cols[0], content, cs=content_cols[1])
                g.add(r, value_cols[0], value, cs=value_cols[1], align="c")
                if note_col is not None:
                    g.add(r, note_col, "")
                r += 1
        g.add(start, lvl1_col, lvl1, rs=r - start, align="c")
    return r


def perf_unit_table():
    """表14 单位整体支出绩效目标表."""
    g = Grid([22, 74, 86, 118, 75, 74, 74], size=8.5, min_h=17, leading=10, snap="all")
    g.add(0, 0, "部门（单位）名称", cs=2, align="c")
    g.add(0, 2, UNIT, cs=5)
    g.add(1, 0, "年度主要任务", rs=5, align="c")
    g.add(1, 1, "任务名称", rs=2, align="c")
    g.add(1, 2, "主要内容", rs=2, cs=2, align="c")
    g.add(1, 4, "预算金额（万元）", cs=3, align="c")
    for c, t in zip((4, 5, 6), ("总额", "财政拨款", "其他资金"), strict=True):
        g.add(2, c, t, align="c")
    for r, (name, content, total, grant) in enumerate(
        [("工资福利支出", "人员经费", 311.45, 311.45), ("商品服务支出", "公用经费", 12.00, 12.00)],
        3,
    ):
        g.add(r, 1, name, align="c")
        g.add(r, 2, content, cs=2, align="c")
        g.add(r, 4, fmt(total), align="r")
        g.add(r, 5, fmt(grant), align="r")
        g.add(r, 6, "")
    g.add(5, 1, "金额合计", cs=3, align="c")
    g.add(5, 4, fmt(323.45), align="r")
    g.add(5, 5, fmt(323.45), align="r")
    g.add(5, 6, "")
    goals = [
        "目标1：（一）抓好已建成基础项目的完善提升",
        "目标2：（二）继续推动政务数据和政务信息系统的整合共享。",
        "目标3：（三）推进民生相关领域重点行业的智慧应用，促进大数据产业发展。",
    ]
    g.add(6, 0, "年度总体目标", rs=len(goals), align="c")
    for i, t in enumerate(goals):
        g.add(6 + i, 1, t, cs=6)
    r0 = 6 + len(goals)
    g.add(r0, 1, "一级指标", align="c")
    g.add(r0, 2, "二级指标", align="c")
    g.add(r0, 3, "指标内容", cs=2, align="c")
    g.add(r0, 5, "指标值", cs=2, align="c")
    spec = [
        (
            "产出指标",
            [
                (
                    "数量指标",
                    [("智慧应用项目", "3个"), ("通用应用", "3个"), ("高频事项实现不见面审批", "")],
                ),
                ("质量指标", [("新型智慧城市建设及大数据产业发展主要指标", "高于全省平均水平")]),
                (
                    "时效指标",
                    [
                        ("五个通用应用全面启动", "完成率80%"),
                        ("政务事项在线办结", "办结率70%"),
                        ("12345市民热线来电办结率", "≥90%"),
                        ("工单办结率", "≥85%"),
                    ],
                ),
            ],
        ),
        ("效益指标", [("社会效益指标", [("社会影响力", "有所提升")])]),
        ("满意度指标", [("服务对象满意度指标", [("市民热线满意率", "≥90%")])]),
    ]
    r = _perf_block(g, r0 + 1, spec, content_cols=(3, 2), value_cols=(5, 2))
    g.add(r0, 0, "年度绩效指标", rs=r - r0, align="c")
    return g


def perf_fund_table():
    """表15 专项资金总体绩效目标表."""
    g = Grid([22, 66, 84, 150, 75, 70, 56], size=8.5, min_h=17, leading=10, snap="all")
    g.add(0, 0, "项目名称", cs=2, align="c")
    g.add(0, 2, "12345平台运营及电子政务外网运行维护费", cs=5)
    g.add(1, 0, "主管部门", cs=2, align="c")
    g.add(1, 2, "宝鸡市大数据发展服务局", cs=2)
    g.add(1, 4, "实施期限", align="c")
    g.add(1, 5, "2023年度", cs=2, align="c")
    g.add(2, 0, "资金金额（万元）", rs=3, cs=2)
    for r, (l1, v1, l2, v2) in enumerate(
        [
            ("实施期资金总额", 40.00, "年度资金总额：", 40.00),
            ("其中：财政拨款", 40.00, "其中：财政拨款", 40.00),
            ("其他资金", None, "其他资金", None),
        ],
        2,
    ):
        g.add(r, 2, l1, align="c")
        g.add(r, 3, fmt(v1), align="r")
        g.add(r, 4, l2, align="c")
        g.add(r, 5, fmt(v2), cs=2, align="r")
    g.add(5, 0, "总体目标", rs=2, align="c")
    g.add(5, 1, "实施期总目标", cs=3, align="c")
    g.add(5, 4, "年度目标", cs=3, align="c")
    goals = "目标1：热线平台日常办公经费正常运转\n目标2：接工接单及时高效\n目标3：服务对象满意"
    g.add(6, 1, goals, cs=3)
    g.add(6, 4, goals, cs=3)
    r0 = 7
    g.add(r0, 1, "一级指标", align="c")
    g.add(r0, 2, "二级指标", align="c")
    g.add(r0, 3, "指标内容", cs=2, align="c")
    g.add(r0, 5, "指标值", align="c")
    g.add(r0, 6, "备注", align="c")
    spec = [
        (
            "产\n出\n指\n标",
            [
                (
                    "数量指标",
                    [
                        ("项目服务群体", "党政机关、人民群众"),
                        ("项目服务用户数量（人）", "370万以上"),
                        ("单位专业技术人员占总人数的比例（%）", "42%"),
                    ],
                ),
                (
                    "质量指标",
                    [("单位质量管理体系认证", "有"), ("项目不间断无故障运行天数（天）", "360天")],
                ),
                (
                    "时效指标",
                    [
                        ("项目建设周期（月）", "3月"),
                        ("项目阶段任务/整体任务完成时效（%）", "100%"),
                        ("项目数据更新频次（年、月、日、实时）", "实时"),
                    ],
                ),
            ],
        ),
        (
            "效\n益\n指\n标",
            [
                (
                    "社会效益指标",
                    [
                        ("项目实施对政府和城市的服务情况", "高"),
                        ("项目实施对社会公众的服务情况", "高"),
                    ],
                ),
                (
                    "可持续影响指标",
                    [
                        ("项目运营对本地产业发展的带动性", "一般"),
                        ("项目运营对本地资源集约使用情况", "高"),
                    ],
                ),
            ],
        ),
        (
            "满\n意\n度\n指\n标",
            [
                (
                    "服务对象满意度指标",
                    [
                        ("项目服务政府部门数量（个）", "热线共有责任单位65个"),
                        ("项目服务企业数量（个）", "100个以上"),
                        ("项目客户满意度（%）", "99%"),
                    ],
                ),
            ],
        ),
    ]
    r = _perf_block(g, r0 + 1, spec, content_cols=(3, 2), value_cols=(5, 1), note_col=6)
    g.add(r0, 0, "绩效指标", rs=r - r0, align="c")
    return g


# --------------------------------------------------------------------------
# pages
# --------------------------------------------------------------------------
MARGIN = 40
FOOT_Y = 24


def footer(c, i, n):
    w, _ = c._pagesize
    draw_text(c, w / 2, FOOT_Y, f"第 {i} 页，共 {n} 页", 9, align="c")


def fit_size(s, size, width):
    while sw(s, size) > width and size > 8:
        size -= 0.5
    return size


def table_pages(c, no, grid, pagesize, note=None):
    grid.check()
    w, h = pagesize
    x0 = (w - grid.width) / 2
    top_first, top_next = h - 108, h - 48
    pages = grid.paginate(top_first - (FOOT_Y + 20), top_next - (FOOT_Y + 20))
    for i, body in enumerate(pages, 1):
        c.setPageSize(pagesize)
        if i == 1:
            draw_text(c, x0, h - 48, no, 10)
            title = TITLES[no]
            size = fit_size(title, 15, w - 2 * MARGIN)
            draw_text(c, w / 2, h - 70, title, size, bold=True, align="c")
            draw_text(c, x0, h - 88, f"单位名称：{UNIT}", 9)
            draw_text(c, x0 + grid.width, h - 102, "单位：万元", 9, align="r")
            top = top_first
        else:
            top = top_next
        bottom = grid.draw(c, x0, top, body)
        if note and i == len(pages):
            draw_text(c, x0, bottom - 13, note, 9)
        footer(c, i, len(pages))
        c.showPage()


def catalogue_page(c):
    w, h = LANDSCAPE
    c.setPageSize(LANDSCAPE)
    g = Grid([62, 440, 76, 110], size=9.5, min_h=19)
    g.append(["报表", "报表名称", "是否空表", "公开空表理由"], ["c"] * 4)
    for row in CATALOGUE:
        g.append(list(row), ["c", "l", "c", "c"])
    g.check()
    x0 = (w - g.width) / 2
    draw_text(c, w / 2, h - 60, f"{YEAR}年单位综合预算公开报表", 16, bold=True, align="c")
    y = h - 84
    for line in (f"单位名称：{UNIT}", "保密审查情况：已审查", "单位主要负责人审签情况：已审签"):
        draw_text(c, x0, y, line, 10.5)
        y -= 17
    g.draw(c, x0, y + 6)
    footer(c, 1, 1)
    c.showPage()


def cover_page(c):
    w, h = PORTRAIT
    c.setPageSize(PORTRAIT)
    draw_text(c, w / 2, h - 300, UNIT, 26, bold=True, align="c")
    draw_text(c, w / 2, h - 500, f"{YEAR}年单位综合预算公开", 26, bold=True, align="c")
    draw_text(c, w / 2, h - 545, f"{YEAR}年2月", 14, align="c")
    c.showPage()


def narrative_pages(c):
    w, h = PORTRAIT
    left, right, top, bottom = 72, w - 72, h - 80, 72
    size, lead = 12, 22
    width = right - left
    y = top
    c.setPageSize(PORTRAIT)
    fresh = True

    def newpage():
        nonlocal y, fresh
        c.showPage()
        c.setPageSize(PORTRAIT)
        y, fresh = top, True

    for kind, text in NARRATIVE:
        if kind == "page":
            newpage()
            continue
        if kind == "part":
            if not fresh:
                y -= 10
            draw_text(c, w / 2, y, text, 16, bold=True, align="c")
            y -= lead * 1.6
        elif kind == "center":
            draw_text(c, w / 2, y, text, size, align="c")
            y -= lead
        elif kind == "h":
            lines = wrap(text, width - 2 * size, size)
            # keep a heading with at least two lines of what follows
            if y - lead * (len(lines) + 2) < bottom:
                newpage()
            for i, ln in enumerate(lines):
                draw_text(c, left + (2 * size if i == 0 else 0), y, ln, size, bold=True)
                y -= lead
        elif kind == "p":
            lines = wrap(text, width, size, indent=2 * size)
            for i, ln in enumerate(lines):
                if y < bottom:
                    newpage()
                draw_text(c, left + (2 * size if i == 0 else 0), y, ln, size)
                y -= lead
        elif kind == "table":
            g = Grid([34, 136, 128, 46, 50, 57], size=9, min_h=18)
            g.append(["序号", "会议/培训名称", "时间", "人数", "金额", "备注"], ["c"] * 6)
            for row in TRAINING_DETAIL:
                g.append(list(row), ["c", "l", "c", "c", "r", "l"])
            g.check()
            need = 40 + sum(g.heights())
            if y - need < bottom:
                newpage()
            y -= 4
            draw_text(c, w / 2, y, "会议费培训费明细", 12, bold=True, align="c")
            y -= 16
            draw_text(c, left + g.width, y, "单位：万元", 9, align="r")
            y -= 6
            y = g.draw(c, left, y) - lead
        fresh = False
    c.showPage()


def build(path: Path = OUT) -> Path:
    check_arithmetic()
    c = canvas.Canvas(str(path), pagesize=PORTRAIT, invariant=1, pageCompression=1)
    c.setTitle(f"{UNIT}{YEAR}年单位综合预算公开")
    c.setAuthor(UNIT)
    c.setSubject(f"{YEAR}年单位综合预算公开（样例，据种子文本重建）")
    c.setCreator("raw/samples/build_sample.py")
    cover_page(c)
    narrative_pages(c)
    catalogue_page(c)
    table_pages(c, "表1", summary_table("all"), LANDSCAPE)
    table_pages(c, "表2", unit_table("income"), LANDSCAPE)
    table_pages(c, "表3", unit_table("expenditure"), LANDSCAPE)
    table_pages(c, "表4", summary_table("grant"), LANDSCAPE)
    table_pages(c, "表5", detail_func_table(T5, True), PORTRAIT)
    table_pages(c, "表6", detail_econ_table(T6, True), LANDSCAPE)
    table_pages(c, "表7", detail_func_table(T7, False), PORTRAIT)
    table_pages(c, "表8", detail_econ_table(T8, False), PORTRAIT)
    table_pages(c, "表9", gov_fund_table(), LANDSCAPE, note="注：本部门不涉及")
    g10 = Grid([36, 70, 232, 85, 100], size=9, min_h=18, header_rows=1)
    g10.append(["序号", "单位编码", "单位名称（项目名称）", "项目金额", "备注"], ["c"] * 5)
    for i, r in enumerate(T10, 1):
        g10.append([str(i)] + list(r), ["c", "l", "l", "r", "l"])
    table_pages(c, "表10", g10, PORTRAIT)
    table_pages(c, "表11", procurement_table(), LANDSCAPE, note="注：本部门不涉及。")
    table_pages(c, "表12", three_public_table(), LANDSCAPE)
    table_pages(c, "表13", perf_project_table(), PORTRAIT)
    table_pages(c, "表14", perf_unit_table(), PORTRAIT)
    table_pages(c, "表15", perf_fund_table(), PORTRAIT)
    c.save()
    return path


if __name__ == "__main__":
    print(build())
