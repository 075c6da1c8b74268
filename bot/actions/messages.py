"""Every sentence the actions say to a citizen, by topic.

Templates take their values by name (``str.format``). Button labels are here too, except those the
actions match back word for word (the read-back's fields, 已解决/未解决, the rating scale).
"""

# --- anywhere: the backend fails, a person takes over -----------------------------------------------

BACKEND_DOWN = "抱歉，系统暂时查询不到相关信息。"
# What a channel that can neither queue a conversation nor transfer a call shows instead.
HUMAN_SERVICE = "好的，为您转人工客服。您也可以拨打12345热线按0，由人工座席为您服务。"
NOT_UNDERSTOOD_HANDOFF = "抱歉，我还是没有听明白，为您转人工客服。"

# --- offers: yes or no to what the last question offered ---------------------------------------------

SUPERVISION_FILED = "已为您提交督办工单，工单编号{number}。我们会催促承办部门尽快办理，处理结果会通知您。"
OFFER_ACCEPTED = "好的。请问有什么可以帮您？"
OFFER_DECLINED = "好的。还有什么可以帮您？"
OFFER_NOT_ANSWERED = "请直接回答“需要”或“不用”，也可以回复选项的序号。"

# --- services: which one, which situation, what next --------------------------------------------------

# What our words mean, asked after hearing them (办结是什么意思, 咩叫受理).
TERM_MEANINGS = {
    "受理": "受理就是部门已经收到并接收了您的申请材料，开始办理了。",
    "审查": (
        "审查就是部门正在审核您交的材料和条件，这是正常的办理步骤，并不代表材料有问题；审核通过后会进入下一步，"
        "一般在承诺办结日期前办完，有问题部门会联系您。"
    ),
    "制证": "制证就是审核已经通过，正在制作证件。",
    "送达": "送达就是证件或结果正在寄送或交到您手上。",
    "办结": (
        "办结就是这件事已经办完了。如果办的是证件，就可以领取了：按受理回执或短信通知上写的方式，"
        "到受理窗口领取，或等邮寄送到。"
    ),
    "已发证": "已发证就是证件已经发出：到受理窗口领取，或等邮寄送到，以受理回执或短信通知为准。",
    "工单": "工单就是把您反映的问题登记下来，转给负责的部门处理，并跟踪到办结；您会拿到工单号，随时可以查进度。",
    "督办": (
        "督办就是由我们登记一张督办工单，转给承办部门，催促他们尽快办理；处理结果会通知您，"
        "具体什么时候答复以承办部门为准，不收费。"
    ),
    "办理中": "办理中就是申请还在部门处理，还没有办完；办完了会显示办结。",
    "签注": (
        "签注就是往来港澳（或台湾）通行证上的出入境许可，写明可以去哪里、去几次、每次停留多久；"
        "通行证只是证件，每次去之前要有有效的签注。"
    ),
    "备案": (
        "备案就是按规定把一件事登记报给主管部门存档，比如房屋租赁备案、异地就医备案；"
        "备了案，后面的业务才能办理或直接结算。"
    ),
    "经办": (
        "经办机构就是具体受理、办理这项业务的单位或窗口，比如社保业务由社会保险经办机构（社保经办窗口、人社服务大厅）办理，"
        "办理地点里写的窗口就是。"
    ),
    "情形": "情形就是同一件事的不同情况，比如首次申领、补领、换领；情况不同，要带的材料也不同。",
    "住所": (
        "住所就是营业执照上登记的经营地址，一般要交住所使用证明，比如租赁合同和产权证明，或按规定作住所申报承诺；"
        "用住宅做住所要符合当地规定，具体以市场监管部门窗口的答复为准。"
    ),
}

# Asked in the middle of the form: how long an answer takes, whether it costs, what a work order is.
REPLY_TIME = "{kind}一般在{limit}内答复，登记后我会告诉您具体的答复日期。我们先把这件事登记好。"
NO_CHARGE = "反映问题、登记工单都是免费的，不收任何费用。我们先把这件事登记好。"
WORK_ORDER_EXPLAINED = TERM_MEANINGS["工单"] + "我们先把这件事登记好。"
# Asked in the middle of the form whether the one complained about will know who complained.
CONFIDENTIALITY = "您的姓名和电话我们会保密，不会告诉被投诉的一方；如果您愿意，也可以匿名反映。我们先把这件事登记好。"
WHICH_DEPARTMENT = (
    "登记后，我们会按问题的类别和地点转给负责的部门办理，提交时我会告诉您是哪个部门、几时前答复。我们先把这件事登记好。"
)
WHAT_HAPPENS_NEXT = (
    "提交后，工单会转给负责的部门处理，部门在答复期限内处理并答复；您留了电话的话，处理结果会通过电话或短信告诉您，"
    "也可以凭工单号查进度。我们先把这件事登记好。"
)
ASIDE_NOTED = "您的问题我记下了，登记完成后可以再问我，也可以转人工。我们先把这件事登记好。"
WHICH_SERVICE = "您要办理的是下面哪一项？请说序号或名称。"
# A question about the answer asked while the choice is open (复印件得唔得, 可唔可以叫人帮我去, 发短信俾我).
CHOOSE_FIRST = "不同事项的要求不一样，请先告诉我您要办的是下面哪一项（说序号或名称），我再回答您。"
# The choice not understood (唔明你讲咩): what it is for, and how to answer.
WHICH_SERVICE_EXPLAINED = (
    "不好意思，我说得不清楚。您问的可能是下面几项中的一项，各自要带的材料不一样。"
    "请说您要办的那一项的序号或名称；都不是的话，请换个说法说说您要办什么事。"
)
WHICH_CERTIFICATE = "请问您要办哪一种证？比如身份证、护照、港澳通行证、驾驶证、结婚证、居住证。"
IS_IT_THIS_SERVICE = "您要办理的是“{service}”吗？"
# Said before the answer about the likely service; ``others`` are the other candidates' names.
LIKELY_SERVICE = "我理解您问的是“{service}”。如果您问的是{others}，直接说名称就行。"
NOT_THIS_SERVICE = "不是这个"
SERVICE_NOT_FOUND = "抱歉，没有找到您说的事项。请换个说法，比如“港澳通行证续签”。"
WHICH_SITUATION = "办理{service}，您属于哪种情况？"
# After the materials of the first (most common) situation: the others differ, so the one question.
WHICH_SITUATION_AFTER_EXAMPLE = "以上是“{first}”的材料，{others}的材料不同。您属于哪种情况？"
SITUATION_NOT_UNDERSTOOD = "抱歉，没听明白是哪种情况。"
ANYTHING_ELSE_TO_KNOW = "还需要了解什么？"
NEXT_STEPS_AFTER_MATERIALS = ("在哪里办理", "查询办件进度", "没有了，谢谢")
NEXT_STEPS_AFTER_OFFICE = ("需要带什么材料", "查询办件进度", "没有了，谢谢")
SERVICE_BEFORE_OFFICE = "不同事项的办理地点和时间不一样，先告诉我您要办什么，我再告诉您去哪里办。"

# --- policy questions ---------------------------------------------------------------------------------

POLICY_NEEDS_STAFF = "这个政策问题需要工作人员为您解答。需要为您转人工服务吗？"
POLICY_HUMAN_CHOICES = ("转人工", "不用了")
POLICY_DISCLAIMER = "具体标准以承办部门的解释为准。需要了解办理材料的话，可以问我“要带什么材料”。"
POLICY_TAKEN_DOWN = "这个政策问题需要相关部门答复。我帮您登记一张咨询工单，答复会告诉您。"

# --- progress of an application (办件) ------------------------------------------------------------------

CASE_NUMBER_INCOMPLETE = "抱歉，没有听到完整的编号。{error}。"
CASE_NOT_FOUND = (
    "没有查到编号为{number}的办件。请核对编号，它在受理回执或短信通知里；新受理的办件可能要第二天才能查到。"
)
CASE_HEADER = "办件编号{number}（{service}，{department}）"
CASE_FINISHED = "已于{date:%Y年%m月%d日}办结。"
CASE_UNDERWAY = "当前进度：{status}。承诺办结日期：{promised:%Y年%m月%d日}。"
CASE_STEP = "{at:%m-%d %H:%M} {status}"
CASE_STEP_NOTE = "（{note}）"
CASE_STEPS = "办理过程：{steps}"
CASE_SHORT = "您的办件目前的进度是{status}。"
CASE_OVERDUE_HANDOFF = "这件办件已经超过承诺时限，您的情况需要人工客服跟进处理。"
CASE_OVERDUE_OFFER = "这件办件已经超过承诺时限{days}天。需要为您提交督办工单，催促承办部门处理吗？"
CASE_NUMBER_FORGOTTEN = (
    "没关系。办件编号印在受理回执上，受理短信里也有；用申请时登记的手机号打进来或发短信，"
    "我可以直接查到您名下的办件。也可以说“转人工”，由客服帮您查。"
)
SUPERVISION_CHOICES = ("需要督办", "不用了")
# 督办 asked for before any case was looked up: the progress form asks for its number next.
SUPERVISION_NEEDS_A_CASE = "督办要先查到您的办件，看是否超过了承诺时限。"
# A question about 督办 itself at the offer (督办之后一般多久会有回复？): answered, and the offer made again.
SUPERVISION_EXPLAINED = TERM_MEANINGS["督办"] + "需要为您提交督办吗？"

# --- progress of a work order (工单) -------------------------------------------------------------------

ORDER_NUMBER_INCOMPLETE = "抱歉，没有听到完整的工单号。{error}。"
ORDER_NOT_FOUND = "没有查到工单号为{number}的工单。请核对工单号，它在登记工单时的回复或短信通知里。"
NO_CLAIM_WITHOUT_CITIZEN = (
    "这张工单登记时没有验证手机号，也没有留联系电话，无法核实您是反映人，为保护反映人的信息，这里不能告诉您它的内容。"
    "请拨打12345热线，由人工座席核实后为您查询。"
)
ORDER_DETAILS = (
    "工单号{number}（{kind}）\n"
    "当前状态：{status}。承办部门：{department}。登记日期：{created:%Y年%m月%d日}。\n"
    "内容：{summary}"
)
ORDER_SHORT = "您的{kind}工单目前的状态是{status}。"
NO_OPEN_ORDERS = "没有查到您名下在办的工单。如果您记得工单号，可以直接告诉我。"
OPEN_ORDERS = "您有{count}张在办的工单（最近的在前）："
OPEN_ORDER = "{n}. {number} {kind} · {status} · {department} · {created:%Y年%m月%d日} · {preview}"
OPEN_ORDERS_PICK = "想看哪一张的详情，说出它的工单号就可以。"
OPEN_ORDERS_SHORT = "您有{count}张在办的工单，最近一张的状态是{status}。"

# --- proving ownership: the last four digits of the applicant's phone -----------------------------------

SAY_PHONE_TAIL = "请说出手机号码的后四位数字，比如“后四位是1234”。"
PHONE_TAIL_WRONG = "后四位与登记的手机号不一致，还可以再试{attempts}次。"
CASE_LOCKED = "验证失败次数过多，为保护您的信息，该办件的查询已暂时锁定，请在{until}以后再试。如需帮助可以说“转人工”。"
ORDER_LOCKED = "验证失败次数过多，为保护您的信息，该工单的查询已暂时锁定，请在{until}以后再试。如需帮助可以说“转人工”。"
# The end of a lock whose time is not known.
LATER = "稍后"

# --- the report form: its questions and what it asks again ---------------------------------------------

ASK_DETAILS_AGAIN = "请再具体说说：发生了什么事，在哪个区、哪条路或哪个小区？"
ASK_DISTRICT = "请问是在广州市哪个区？比如天河区、越秀区。"
# Added to ASK_DISTRICT where the channel can share a location.
OR_SHARE_LOCATION = "也可以直接发送位置。"
DISTRICT_NOT_RECOGNISED = (
    "没听出是哪个区。广州市有越秀、海珠、荔湾、天河、白云、黄埔、番禺、花都、南沙、从化、增城11个区，请说是哪个区。"
)
# The form's question explained to a citizen who did not understand it (什么叫从什么时候开始？).
QUESTION_EXPLAINED = {
    "report_details": "就是请您说说发生了什么事，比如“楼下工地晚上十二点还在施工，很吵”。",
    "report_district": (
        "就是这件事发生在广州哪个区，比如天河区、越秀区、海珠区；不知道是哪个区，说附近的路名或地标也行。"
    ),
    "report_address": "就是具体在哪里：哪条路、哪个小区、门牌号，或者附近的店铺、地标。",
    "report_since": (
        "就是这个情况是哪天开始的，或者有多久了，说个大概就行，比如“三天了”“上周开始”；不记得的话说“不清楚”。"
    ),
}
ADDRESS_TOO_VAGUE = "请说具体一点：哪条路、哪个小区，或者门牌号？"
# Asked when the place said unasked was only near somewhere (北京路附近), and the time only a length of it.
ASK_PLACE_SPOT = "您说在“{said}”，具体是哪条路、哪个小区或门牌号？附近有什么店铺或标志也可以。"
OFFER_VERIFIED_PHONE = "我们会通过您验证过的手机尾号{tail}联系您，可以吗？"
VERIFIED_PHONE_CHOICES = ("可以", "换一个号码")
ANONYMOUS_CHOICE = "匿名举报"
ASK_PHONE = "请留一个联系电话（11位手机号），方便把办理结果告诉您。"
# Added to ASK_PHONE for a 举报.
OR_ANONYMOUS = "如果不想留联系方式，可以说“我要匿名”。"
INVALID_PHONE = "这个号码好像不对：手机号应为以1开头的11位数字，请再说一遍。"
# A number refused: anonymity is possible for every kind (only a 举报 is offered it unasked).
PHONE_NEEDED = "留一个联系电话，办理结果才能告诉您；不想留可以说“匿名”，不想登记了可以说“算了”。"

# --- the report's read-back ------------------------------------------------------------------------------

# A report given up for a question about a service, answered right after (one question a turn: none here).
REPORT_DROPPED_FOR_QUESTION = "好的，不登记了。"
READBACK_TITLE = "请核对您要登记的{kind}："
READBACK_KIND = "类型：{kind}"
READBACK_DETAILS = "事情：{details}"
READBACK_PLACE = "地点：{place}"
READBACK_SINCE = "时间：{since}"
READBACK_CONTACT = "联系方式：{contact}"
# Written: an SMS has no button to tap, so the citizen is told to answer (a button, where shown, does the same).
READBACK_HOW_TO_CHANGE = "没问题请回复“确认提交”；要改哪里直接说就行，比如“地址不对，是天河路100号”或“改一下时间”。"
# The same on the phone (the read-back's spoken form): what to say or press, never a button to tap.
READBACK_HOW_TO_CHANGE_SPOKEN = "没问题请说“确认提交”；要改哪里直接说就行，比如“地址不对，是天河路100号”。"
READBACK_CHOICES = ("确认提交", "修改")
SHARED_LOCATION = "您发送的位置"
SHARED_LOCATION_AT = "您发送的位置（{place}）"
NO_PLACE = "未说明具体地点"
CONTACT_ANONYMOUS = "匿名（不留联系方式，办理结果无法通知您）"
CONTACT_VERIFIED = "您验证过的手机"
CONTACT_VERIFIED_TAIL = "您验证过的手机（尾号{tail}）"
CONTACT_PHONE = "手机{phone}"
CONTACT_NONE = "未留"
CORRECTION_TAKEN = "好的，{field}改为：{value}。"
ASK_WHICH_FIELD = "请问要修改哪一项？也可以直接说改成什么，比如“地址是天河路100号”。"

# --- the filed report -------------------------------------------------------------------------------------

# The spoken form (the short one) is the whole filing message with the number's digits spaced.
REPORT_FILED = "已为您登记{kind}，工单号{number}。"
HANDED_TO = "已转交{department}办理"
TO_BE_DISPATCHED = "将由调度员分派给承办部门"
ANSWER_DUE = "{handled_by}，{deadline}前会给您答复。"
ALREADY_BEING_HANDLED = "这个问题已经在工单{number}中处理，办理结果也会通知您。"
KEEP_THE_NUMBER = "请记下工单号，了解进度请拨打12345热线报上工单号。"
FILED_ANONYMOUSLY = "您是匿名反映，我们不会记录您的联系方式。" + KEEP_THE_NUMBER
PROGRESS_WILL_BE_TOLD = "办理进展会通知您。"
RESULT_BY_PHONE = "办理结果会通过您留的电话{phone}告诉您。" + KEEP_THE_NUMBER
REPORT_NOT_FILED = "抱歉，工单没能登记：{error}。请拨打12345热线，由人工座席为您登记。"

# --- 回访 of a closed work order -------------------------------------------------------------------------

CLOSED_ASK_SOLVED = "您反映的问题（工单{number}）已办结。请问问题解决了吗？"
CLOSED_WITH_REPLY_ASK_SOLVED = "您反映的问题（工单{number}）已办结，答复是：{reply}。请问问题解决了吗？"
ASK_SOLVED_AGAIN = "请问您反映的问题（工单{number}）解决了吗？"
SAY_SOLVED = "请回答“已解决”或“未解决”。"
SAY_RATING = "请回答“满意”“基本满意”或“不满意”，也可以回复1、2、3。"
FOLLOW_UP_STOPPED = "好的，不打扰您了。还有什么可以帮您？"
FOLLOW_UP_DONE = "感谢您的评价！工单{number}的回访已完成。还有什么可以帮您？"
FOLLOW_UP_ALREADY_DONE = "工单{number}已经回访过了，感谢您的反馈。还有什么可以帮您？"
ORDER_REOPENED = "已收到您的意见，工单{number}已重新交办承办部门，处理结果会再通知您。还有什么可以帮您？"

# --- rating a handoff -------------------------------------------------------------------------------------

ASK_HANDOFF_RATING = "人工服务已结束，请您对本次服务评价："
# Praise said unasked (几好 俾五粒星你, 给你五星好评).
THANKS_FOR_PRAISE = "谢谢您的肯定！还有什么可以帮您？"
THANKS_FOR_RATING = "感谢您的评价！还有什么可以帮您？"

# --- rating a conversation the bot handled alone (asked at the goodbye) -------------------------------------

ASK_BOT_RATING = "感谢您使用12345热线。结束前，请您对本次服务评价：满意、基本满意，还是不满意？"
ASK_BOT_RATING_REASON = "很抱歉没能让您满意。能说说原因，或者我们哪里可以改进吗？"
THANKS_FOR_BOT_RATING = "感谢您的评价！再见，如有需要随时拨打12345。"
THANKS_FOR_BOT_RATING_REASON = "感谢您的意见，我们会认真改进。再见，如有需要随时拨打12345。"
